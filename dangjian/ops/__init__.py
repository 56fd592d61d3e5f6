"""Running in an office intranet: offline bundles, systemd units, backup and restore, index checks
and format upgrades. Each module has one entry function; the CLI commands are in ``cli/ops.py``."""
