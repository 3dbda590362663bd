"""Hand byecore's setup to other tools: a LiteLLM proxy config, CC Switch and Claude Code
Router import links.

Each module turns saved settings into plain data (what to write, which variables to
export, what does not carry over) and never prints; ``cli/export_cmd.py`` renders it.
Keys stay out of everything unless the caller asks for them.
"""
