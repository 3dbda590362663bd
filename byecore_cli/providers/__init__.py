"""Provider knowledge: presets as data, URL and key hygiene, live look-ups."""
