"""CLI commands: each module registers its subcommands with `register(subparsers)`."""
