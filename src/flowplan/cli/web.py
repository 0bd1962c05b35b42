"""``flowplan serve`` and ``flowplan users ...``: the web application and its accounts.

The server uses the same store as every other command (``--db`` or ``FLOWPLAN_DATABASE_URL``,
else SQLite under ``FLOWPLAN_HOME``). Create the first administrator with
``flowplan users create NAME --admin``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from flowplan.cli.common import DbOption, JsonOption, app, out, print_json, reports_errors
from flowplan.errors import UsageError
from flowplan.store.store import Store, login_name
from flowplan.store.users import Role, UserStore, roles_text

users_app = typer.Typer(
    help="Web users: create, grant roles, API tokens, list.", no_args_is_help=True
)
app.add_typer(users_app, name="users")

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Added to the web audit entry of every change made here (the web pages add ``via: web``).
CLI_AUDIT = {"via": "cli"}


@app.command("serve")
@reports_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Send the session cookie over HTTPS only (default: on, except on loopback).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Run the web application (pages and the JSON API under /api/)."""
    import uvicorn

    from flowplan.web.app import create_app

    secure = secure_cookies if secure_cookies is not None else host not in LOOPBACK
    web = create_app(db, secure_cookies=secure)
    if UserStore(web.state.flowplan.store).count() == 0:
        out.print("No users yet: create one with `flowplan users create NAME --admin`.")
    out.print(f"flowplan web on http://{host}:{port}/ (API schema: /api/openapi.json)")
    uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=False)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: no password on standard input")
        return password
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return entered


@users_app.command("create")
@reports_errors
def users_create(
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    admin: Annotated[bool, typer.Option("--admin", help="Make a site administrator.")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown on pages.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a user (asks for the password twice unless --password-stdin)."""
    users = UserStore(Store(db))
    password = _read_password(password_stdin)
    account = users.create(
        username,
        password,
        display_name=display_name,
        admin=admin,
        who=login_name(),
        context=CLI_AUDIT,
    )
    kind = "administrator" if account.is_admin else "user"
    out.print(f"Created {kind} {account.username}.")


@users_app.command("grant")
@reports_errors
def users_grant(
    username: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[Role, typer.Option("--role", help="Role to grant.", case_sensitive=False)],
    org: Annotated[
        str | None, typer.Option("--org", help="Organisation code the role acts for.")
    ] = None,
    footprint: Annotated[
        str | None, typer.Option("--footprint", help="Footprint code the role applies to.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Grant a role, scoped to an organisation or a footprint (or everywhere)."""
    grant = UserStore(Store(db)).grant(
        username, role, org=org, footprint=footprint, who=login_name(), context=CLI_AUDIT
    )
    out.print(f"Granted {grant.role} ({grant.scope_text()}) to {username}.")


@users_app.command("revoke")
@reports_errors
def users_revoke(
    username: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[Role, typer.Option("--role", help="Role to take away.", case_sensitive=False)],
    org: Annotated[str | None, typer.Option("--org", help="Its organisation scope.")] = None,
    footprint: Annotated[
        str | None, typer.Option("--footprint", help="Its footprint scope.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Take a role away."""
    if not UserStore(Store(db)).revoke(
        username, role, org=org, footprint=footprint, who=login_name(), context=CLI_AUDIT
    ):
        raise UsageError(f"{username} does not hold {role} with that scope")
    out.print(f"Revoked {role} from {username}.")


@users_app.command("token")
@reports_errors
def users_token(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke the named token.")] = False,
    db: DbOption = None,
) -> None:
    """Create an API token (printed once — only its hash is stored), or revoke one."""
    users = UserStore(Store(db))
    if revoke:
        if not users.revoke_token(username, name, who=login_name(), context=CLI_AUDIT):
            raise UsageError(f"{username} has no active token named {name!r}")
        out.print(f"Revoked token {name!r} of {username}.")
        return
    token = users.create_token(username, name, who=login_name(), context=CLI_AUDIT)
    out.print(token, markup=False)
    print(
        "Keep this token secret: it is shown only now. Send it as 'Authorization: Bearer <token>'.",
        file=sys.stderr,
    )


@users_app.command("list")
@reports_errors
def users_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Users and their roles."""
    accounts = UserStore(Store(db)).accounts()
    if as_json:
        print_json(
            {
                "users": [
                    {
                        "username": a.username,
                        "display_name": a.display_name,
                        "admin": a.is_admin,
                        "active": a.active,
                        "roles": [
                            {"role": str(g.role), "org": g.org, "footprint": g.footprint}
                            for g in a.grants
                        ],
                    }
                    for a in accounts
                ]
            }
        )
        return
    table = Table(title="Users")
    for col in ("username", "name", "admin", "active", "roles"):
        table.add_column(col)
    for a in accounts:
        table.add_row(
            a.username,
            a.display_name,
            "yes" if a.is_admin else "",
            "yes" if a.active else "no",
            roles_text(a.grants),
        )
    out.print(table)


__all__ = ["users_app"]
