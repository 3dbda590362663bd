from byecore_cli.cli.main import run

run()
