"""What every `nafitha` command module shares: the click classes that end each --help with
its example, the Context the root group hands to every command (settings and the office,
opened on first use), the `command` decorator (--json, and a NafithaError as one line on
stderr with exit status 1), and helpers used by more than one command group."""
from __future__ import annotations

import functools
import getpass
import inspect
import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from core import money
from core.errors import NafithaError
from core.settings import load_settings


class ExampleLast:
    """Moves the docstring's 'Example:' block to the epilog, so --help ends with it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        text = inspect.cleandoc(self.help or "")
        if "\b\nExample:" in text and not self.epilog:
            help_text, _, example = text.partition("\b\nExample:")
            self.help = help_text.rstrip()
            self.epilog = "\b\nExample:" + example


class Command(ExampleLast, click.Command):
    pass


class Group(ExampleLast, click.Group):
    command_class = Command


Group.group_class = Group


USER_PIN_ENV = "NAFITHA_USER_PIN"


def ask_pin(label: str) -> str:
    """A PIN typed with hidden input: every PIN the CLI asks for (a supervisor's, --user's)."""
    return click.prompt(label, hide_input=True)


class Context:
    def __init__(self, data, config, user):
        # user: who --user (NAFITHA_USER) names, or None; `actor()` proves it.
        self.data, self.config, self.user = data, config, user
        self._actor = None
        self._settings = None
        self._office = None
        self.clock = None  # the core clock (None: the system's); the kiosk's pilot freezes it
        # `nafitha central ...`: where central's files and database are, and its service
        # once a command opened it.
        self.central_home, self.central_db, self.central = None, None, None

    @property
    def settings(self):
        if self._settings is None:
            self._settings = load_settings(self.data, self.config)
        return self._settings

    def actor(self) -> str:
        """Who a command records as the actor. Naming a user (--user) needs their PIN
        (NAFITHA_USER_PIN, or asked with hidden input), checked on the one PIN path
        (Users.authenticate: counted, locked, audited; an unknown name and a wrong PIN get
        the same answer); without --user it is `cli:<login name>`, no person."""
        if self._actor is None:
            if self.user is None:
                self._actor = f"cli:{_login_name()}"
            else:
                pin = os.environ.get(USER_PIN_ENV)
                if pin is None:
                    pin = ask_pin(f"PIN for {self.user}")
                self._actor = self.office.users.authenticate(self.user.strip().lower(),
                                                             pin)["username"]
        return self._actor

    @property
    def office(self):
        if self._office is None:
            from core.office import Office
            self._office = Office.open(self.settings, clock=self.clock)
        return self._office

    def close(self) -> None:
        """Let go of the office and central's service, if a command opened them."""
        if self._office is not None:
            self._office.close()
        if self.central is not None:
            self.central.close()


def emit(value, as_json: bool, human=None) -> None:
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    elif human is not None:
        human(value)
    else:
        _print_plain(value)


def _print_plain(value, indent: str = "") -> None:
    if isinstance(value, list):
        for item in value:
            _print_plain(item, indent)
            if isinstance(item, dict):
                click.echo()
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                click.echo(f"{indent}{k}:")
                _print_plain(v, indent + "  ")
            else:
                click.echo(f"{indent}{k}: {'' if v is None else v}")
    else:
        click.echo(f"{indent}{value}")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return str(os.getuid())


def supervisor_options(fn):
    """--supervisor NAME and their PIN (NAFITHA_SUPERVISOR_PIN, or asked): what a command
    that only a supervisor may authorise takes (void, approve, reject, revoke, ...)."""
    fn = click.option("--pin", envvar="NAFITHA_SUPERVISOR_PIN",
                      callback=lambda _ctx, _param, pin: ask_pin("Supervisor PIN")
                      if pin is None else pin,
                      help="The supervisor's PIN (asked if not given).")(fn)
    return click.option("--supervisor", required=True,
                        help="The supervisor authorising it (recorded as the actor).")(fn)


def command(group: click.Group | None, name=None, **kwargs):
    """A command with --json and clean error handling: FN(ctx, ...) returns (result, human),
    printed as JSON with --json, else by human(result) (or plainly when human is None).
    The command is added to GROUP; with group=None it is a standalone top-level command, for
    its module's register() to add to the root group."""
    def decorate(fn):
        @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
        @click.pass_obj
        @functools.wraps(fn)
        def wrapper(ctx: Context, *args, as_json=False, **kw):
            try:
                result, human = fn(ctx, *args, **kw)
            except NafithaError as exc:
                if as_json:
                    click.echo(json.dumps(exc.to_dict(), ensure_ascii=False))
                click.echo(f"Error: {exc.message}", err=True)
                sys.exit(1)
            emit(result, as_json, human)
        if group is None:
            return click.command(name, cls=Command, **kwargs)(wrapper)
        return group.command(name, **kwargs)(wrapper)
    return decorate


def parse_money(text: str, field: str, ctx: Context, currency: str = "BHD") -> int:
    return money.parse_amount(text, currency, field, ctx.settings.validation.max_amount_minor)


def service_catalog(ctx: Context):
    """The catalogue this office shows and charges: the files in ctx.settings.catalog_dir
    with what central published laid over them; before set-up (no store yet), the files."""
    from core.catalog import load_catalog
    if not Path(ctx.settings.db_path).exists():
        return load_catalog(ctx.settings.catalog_dir)
    return ctx.office.catalog


def local_time(stored: str | None, tz) -> str:
    """A stored UTC time as people at the office read it: YYYY-MM-DD HH:MM in its zone
    (office.timezone); "-" for none. JSON output keeps the stored UTC values."""
    if not stored:
        return "-"
    return datetime.fromisoformat(stored).astimezone(tz).strftime("%Y-%m-%d %H:%M")
