"""``byecore image``: make (or edit) images with a provider's image model, priced up front."""

from __future__ import annotations

from pathlib import Path

import typer

from byecore_cli.cli.options import JSON_OPTION, PROVIDER_OPTION
from byecore_cli.cli.output import Output
from byecore_cli.errors import UsageError
from byecore_cli.providers.presets import BY_NAME


def _gateway_prices() -> str:
    """The byecore preset's image table in words, for --help (the data, not a copy)."""
    parts = []
    for model, data in BY_NAME["byecore"].image_models.items():
        tiers = "; ".join(f"{label} ${tier['price']:.2f}: {', '.join(tier['sizes'])}"
                          for label, tier in data["tiers"].items())
        missing = data.get("missing_size_tier")
        parts.append(f"{model}: {tiers}" + (f" (a request without a size is billed as "
                                            f"{missing})" if missing else ""))
    return " ".join(parts)


FORMATS = ("png", "jpeg", "webp")
HELP = f"""Make (or edit) images with an image model; says where they went and the cost.

Sizes and prices are the provider's data (see them: byecore image --sizes; correct them
under [providers.NAME.image_models] in settings.toml). On byecore's gateway,
{_gateway_prices()}. So byecore always sends a size: the cheapest unless --size says
otherwise; a size the table does not list is refused before anything is sent.

With --image FILE (repeatable) it edits those images instead (POST /images/edits).
Files are never overwritten without --force: a taken name gets -2, -3….
"""


def image(
    prompt: str | None = typer.Argument(None, help="What to draw (or, with --image, how "
                                        "to change the image)."),
    size: str | None = typer.Option(
        None, "--size", "-s", metavar="WxH|TIER",
        help="1024x1024, 1536x1024… or a tier: 1K, 2K, 4K (its first size). Default: the "
        "model's cheapest size."),
    quality: str | None = typer.Option(
        None, "--quality", "-q", help="Passed on as is (low, medium, high, auto; the model "
        "decides what it accepts)."),
    n: int = typer.Option(1, "--n", "-n", min=1, max=10, help="How many images (each one "
                          "is billed)."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="The image model (default: the provider's first, e.g. "
        "image-2)."),
    provider: str | None = PROVIDER_OPTION,
    output: str | None = typer.Option(
        None, "--output", "-o", metavar="FILE|DIR",
        help="Where to save: a file (its extension picks --format), or a folder. Default: "
        "the current folder, named after the prompt."),
    fmt: str | None = typer.Option(None, "--format", metavar="png|jpeg|webp",
                                   help="The file format to ask for (sent as "
                                   "output_format)."),
    inputs: list[Path] = typer.Option(
        [], "--image", "-i", metavar="FILE", help="An image to edit (repeatable)."),
    mask: Path | None = typer.Option(None, "--mask", metavar="FILE",
                                     help="With --image: a PNG whose transparent pixels "
                                     "mark where to edit."),
    stream: bool = typer.Option(False, "--stream", help="Stream, and save partial images "
                                "as they come, where the provider offers it."),
    partial: int | None = typer.Option(
        None, "--partial", min=0, max=3, metavar="N",
        help="Partial images to ask for while streaming (0-3; implies --stream). Some "
        "providers bill partials as extra output."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that exist."),
    sizes: bool = typer.Option(False, "--sizes", help="Print the sizes and prices of the "
                               "image models (of --provider/--model, else all) and exit."),
    timeout: float = typer.Option(300.0, "--timeout", min=1.0, metavar="SECONDS",
                                  help="Seconds to wait for the answer (images take a "
                                  "while)."),
    json_out: bool = JSON_OPTION,
) -> None:
    with Output("image", json_out) as out:
        from byecore_cli.config.store import SettingsStore
        from byecore_cli.paths import Paths

        settings, _ = SettingsStore(Paths.current().settings).load()
        if sizes:
            return _sizes(out, settings, provider, model)
        if prompt is None or not prompt.strip():
            raise UsageError("say what to draw: byecore image \"a red fox in the snow\"",
                             hint="or list the sizes and prices: byecore image --sizes")
        from byecore_cli.images import catalog

        name, model = catalog.choose(settings, model, provider)
        table = catalog.table(settings, name, model)
        if not table.known:
            out.note(f"[yellow]note:[/] {model} has no size table on {name}: its sizes are "
                     "not checked and its cost is unknown")
        chosen = _size(out, table, size)
        fmt = _format(fmt, output)
        if mask is not None and not inputs:
            raise UsageError("--mask goes with --image: it marks where to edit that image")
        files = [_read_image(path) for path in inputs]
        fields = {"model": model, "prompt": prompt, "size": chosen.size, "n": n}
        if quality:
            fields["quality"] = quality
        if fmt:
            fields["output_format"] = fmt
        if stream or partial is not None:
            fields["stream"] = True
            fields["partial_images"] = 1 if partial is None else partial
        job = _Job(out, settings.providers[name], name, output, prompt, force, fmt)
        answer = job.run(fields, files, _read_image(mask) if mask else None, timeout,
                         f"{'Editing' if files else 'Making'} {n} image{'s' * (n > 1)} "
                         f"{chosen.label} with {model} on {name}…")
        data = job.result(answer, model, chosen, n)
        out.done(data, _human)


class _Job:
    """One request and its files: partials saved as they come, then the images."""

    def __init__(self, out, provider, name, output, prompt, force, fmt) -> None:
        from byecore_cli.images import saving

        self.out, self.provider, self.name, self.force, self.fmt = (out, provider, name,
                                                                    force, fmt)
        self.where = saving.target(output, prompt)
        self.partials: list[dict] = []

    def run(self, fields, files, mask, timeout, doing):
        import asyncio

        from byecore_cli.images.client import ImagesClient

        client = ImagesClient(self.name, self.provider, timeout=timeout)
        call = client.run(fields, files or None, mask, on_partial=self._partial)
        if self.out.json_mode:
            return asyncio.run(call)
        with self.out.err.status(doing):
            return asyncio.run(call)

    def _save(self, picture, count: int, index: int, partial: int | None = None) -> dict:
        from byecore_cli.images import formats, saving

        kind = formats.sniff(picture.data)
        extension = formats.EXTENSIONS.get(kind or self.fmt or "png", ".png")
        wanted = saving.names(self.where, count, extension, partial)[0 if partial is not None
                                                                     else index]
        path = saving.save(picture.data, wanted, force=self.force)
        width_height = formats.dimensions(picture.data)
        return {"path": str(path), "bytes": len(picture.data), "format": kind,
                "width": width_height[0] if width_height else None,
                "height": width_height[1] if width_height else None,
                "revised_prompt": picture.revised_prompt}

    def _partial(self, picture) -> None:
        saved = self._save(picture, 1, 0, partial=len(self.partials))
        self.partials.append(saved)
        self.out.note(f"[dim]partial {len(self.partials)} saved: {_shown(saved['path'])}[/]")

    def result(self, answer, model, chosen, asked: int) -> dict:
        count = len(answer.images)
        saved = [self._save(p, count, i) for i, p in enumerate(answer.images)]
        cost = None if chosen.price is None else round(chosen.price * count, 6)
        if count < asked:
            self.out.note(f"[yellow]note:[/] asked for {asked} images, got {count}")
        if answer.size and answer.size != chosen.size:
            self.out.note(f"[yellow]note:[/] {self.name} says it made {answer.size}, not "
                          f"{chosen.size}")
        return {"provider": self.name, "model": model, "size": chosen.size,
                "tier": chosen.tier, "price_each": chosen.price, "count": count,
                "cost": cost, "images": saved, "partials": self.partials,
                "streamed": answer.streamed, "usage": answer.usage}


def _size(out: Output, table, size: str | None):
    from byecore_cli.images.catalog import Size

    if size is not None:
        return table.resolve(size)
    cheapest = table.cheapest() or Size("1024x1024")
    out.note(f"[dim]size {cheapest.label}"
             + (", the cheapest" if table.known else "") + " (--size for another)[/]")
    return cheapest


def _format(fmt: str | None, output: str | None) -> str | None:
    from byecore_cli.images.formats import FORMAT_OF_EXTENSION

    if fmt is not None:
        fmt = {"jpg": "jpeg"}.get(fmt.lower(), fmt.lower())
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r}: choose png, jpeg or webp")
    if output and not output.endswith(("/", "\\")) and not Path(output).is_dir():
        suffix = Path(output).suffix.lower()
        wanted = FORMAT_OF_EXTENSION.get(suffix)
        if suffix and wanted is None:
            raise UsageError(f"-o {output}: byecore saves .png, .jpg or .webp files",
                             hint="give one of those extensions, or a folder")
        if fmt and wanted and wanted != fmt:
            raise UsageError(f"-o {output} is a {wanted} name, but --format {fmt} was asked",
                             hint="drop --format (the extension decides) or rename the file")
        fmt = fmt or wanted
    return fmt


def _read_image(path: Path) -> tuple[str, bytes]:
    from byecore_cli.images.formats import sniff

    try:
        data = path.expanduser().read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if sniff(data) not in ("png", "jpeg", "webp"):
        raise UsageError(f"{path} is not a PNG, JPEG or WebP image",
                         hint="the Images API edits those three formats")
    return path.name, data


def _shown(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _human(console, d: dict) -> None:
    from rich.markup import escape

    for saved in d["images"]:
        dims = f"{saved['width']}×{saved['height']}" if saved["width"] else "size unknown"
        console.print(f"saved [bold]{escape(_shown(saved['path']))}[/]  {dims} "
                      f"{(saved['format'] or 'unknown format').upper()}, "
                      f"{_kilobytes(saved['bytes'])}")
        if saved["revised_prompt"]:
            console.print(f"  [dim]revised prompt: {escape(saved['revised_prompt'])}[/]")
    from byecore_cli.images.catalog import price_text

    images = f"{d['count']} image{'s' * (d['count'] != 1)}"
    tier = f" ({d['tier']})" if d["tier"] else ""
    if d["cost"] is None:
        console.print(f"{images}, {d['size']}{tier}: cost unknown (no price in "
                      f"{escape(d['provider'])}'s table for {escape(d['model'])})")
    else:
        console.print(f"{images}, {d['size']}{tier}: [bold]{price_text(d['cost'])}[/] "
                      f"({price_text(d['price_each'])} each, by {escape(d['provider'])}'s "
                      "price table)")


def _kilobytes(size: int) -> str:
    return f"{size / 1024:,.0f} KB" if size >= 1024 else f"{size} bytes"


def _sizes(out: Output, settings, provider: str | None, model: str | None) -> None:
    from byecore_cli.errors import NotFound
    from byecore_cli.images import catalog

    if provider is not None and provider not in settings.providers:
        raise NotFound(f"no saved provider named {provider!r}",
                       hint="see 'byecore provider list'")
    rows = []
    for name in [provider] if provider else list(settings.providers):
        listed = catalog.image_models(settings.providers[name])
        for each in [model] if model else list(listed):
            table = catalog.table(settings, name, each)
            cheapest = table.cheapest()
            rows.append({
                "provider": name, "model": each, "known": table.known,
                "sizes": [s.as_dict() for s in table.rows()],
                "default": cheapest.size if cheapest else None,
                "missing_size_tier": table.data.missing_size_tier if table.data else None,
                "missing_size_billed": table.missing_price()})
    if not rows:
        raise NotFound("no saved provider lists an image model",
                       hint="add one whose preset has them: byecore provider add byecore")

    def human(console, d):
        from rich.markup import escape
        from rich.table import Table

        for row in d["models"]:
            if not row["known"]:
                console.print(f"[yellow]{escape(row['model'])} on {escape(row['provider'])}:"
                              "[/] no size table (sizes not checked, cost unknown)")
                continue
            table = Table("size", "tier", "price", title=f"{row['model']} on "
                          f"{row['provider']}", title_justify="left")
            for s in row["sizes"]:
                mark = " [green](default)[/]" if s["size"] == row["default"] else ""
                table.add_row(s["size"] + mark, s["tier"] or "",
                              catalog.price_text(s["price"]))
            console.print(table)
            if row["missing_size_billed"]:
                console.print(f"[dim]{escape(row['provider'])} bills a request without "
                              f"a size (or with auto, or one not listed) as "
                              f"{row['missing_size_billed']}; byecore image always sends "
                              "one, and byecore proxy fills it in.[/]")

    out.done({"models": rows}, human)


image.__doc__ = HELP
