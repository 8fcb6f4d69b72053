#!/usr/bin/env bash
# t_check_flavors_trixie: t_check_flavors for the Debian 13 (trixie) flavors.
# Exit 0 pass, 1 fail, 77 skipped (the mirror does not carry trixie, or as there).
DISTILL_RELEASE=trixie exec bash "$(dirname "$0")/t_check_flavors.sh"
