"""The command line: typer, one module per command group. The only package that uses rich."""
