"""``refundkit users add|list|remove|set-role --file F``: the team that signs in to ``refundkit app --users F``.

The password is read from standard input (its first line) when it is not a terminal, or asked for twice without
echo; it is never an argument, so it is on no command line and in no shell history.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from .cli_common import EXIT_OK, Output, Subcommands, UsageError, add_json_flag
from .desk_users import ROLES, add_user, load_users, remove_user, set_role

__all__ = ["register"]


def register(sub: Subcommands) -> None:
    u = sub.add_parser("users", help="the team that signs in to the refund desk (refundkit app --users FILE)")
    users = u.add_subparsers(dest="users_command", metavar="ACTION", parser_class=type(u))

    def with_file(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--file", required=True, type=Path, help="the users file (created with mode 0600)")
        return p

    a = with_file(users.add_parser("add", help="add a person (or give them a new password); password from stdin"))
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, default="recorder", help="default recorder")
    a.set_defaults(handler=cmd_add)
    ls = with_file(users.add_parser("list", help="names and roles"))
    add_json_flag(ls)
    ls.set_defaults(handler=cmd_list)
    r = with_file(users.add_parser("remove", help="remove a person"))
    r.add_argument("name")
    r.set_defaults(handler=cmd_remove)
    s = with_file(users.add_parser("set-role", help="change a person's role"))
    s.add_argument("name")
    s.add_argument("role", choices=ROLES)
    s.set_defaults(handler=cmd_set_role)


def read_password() -> str:
    """The new password: the first line of stdin, or typed twice at a prompt that does not echo."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("no password on standard input: pipe it in (one line), or run this in a terminal")
        return password
    password = getpass.getpass("Password: ")
    if getpass.getpass("Same password again: ") != password:
        raise UsageError("the two passwords differ; nothing was changed")
    return password


def cmd_add(args: argparse.Namespace) -> int:
    new = add_user(args.file, args.name, read_password(), args.role)
    Output.from_args(args).message(f"{'added' if new else 'updated'} {args.name} ({args.role}) in {args.file}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    users = sorted(load_users(args.file).values(), key=lambda u: u.name)
    Output.from_args(args).result(
        {"users": [{"name": u.name, "role": u.role} for u in users]}, [f"{u.name}\t{u.role}" for u in users]
    )
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    remove_user(args.file, args.name)
    Output.from_args(args).message(f"removed {args.name} from {args.file}")
    return EXIT_OK


def cmd_set_role(args: argparse.Namespace) -> int:
    set_role(args.file, args.name, args.role)
    Output.from_args(args).message(f"{args.name} is now {args.role} in {args.file}")
    return EXIT_OK
