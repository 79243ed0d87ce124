from imagine.cli import app

app(prog_name="imagine")
