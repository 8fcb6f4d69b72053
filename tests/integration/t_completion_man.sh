#!/usr/bin/env bash
# t_completion_man: the shell completion and manual pages generated from the
# command-line definitions. The bash script is sourced in a fresh bash and driven
# as readline would (COMP_LINE/COMP_POINT/COMP_WORDS), then checked against
# `compgen`; each manual page renders with `man -l` without a warning; `cmake
# --install --prefix` puts binary, pages and completions where they belong.
# Also: --help ends with examples; a mistyped command or flag is a usage error
# (exit 2) naming the nearest one. Exit 0 pass, 1 fail, 77 skipped (no man).
. "$(dirname "$0")/lib/common.sh"

export LC_ALL=C
W=$(mktemp -d "${TMPDIR:-/tmp}/t_completion_man.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

# --- bash completion -------------------------------------------------------
"$DISTILL" completion bash >"$W/distill.bash" || fail "completion bash"
"$DISTILL" completion zsh >"$W/_distill" || fail "completion zsh"
"$DISTILL" completion fish >"$W/distill.fish" || fail "completion fish"
bash -n "$W/distill.bash" || fail "the bash script does not parse"
if command -v zsh >/dev/null; then zsh -n "$W/_distill" || fail "the zsh script does not parse"; fi
if command -v fish >/dev/null; then fish -n "$W/distill.fish" || fail "the fish script does not parse"; fi

mkdir -p out/cc specs
touch app.yaml notes.txt specs/web.yml image.tar

# complete LINE: the candidates bash would offer for LINE (cursor at its end), one
# a line, sorted; words broken at blanks and at ':' '=' as readline does.
cat >"$W/harness.sh" <<'SH'
source "$1"
line=$2
COMP_LINE=$line
COMP_POINT=${#line}
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
# bash splits at blanks and word-break characters, keeping : and = as words
words=()
rest=$line
while [[ -n $rest ]]; do
  if [[ $rest == [[:blank:]]* ]]; then rest=${rest#?}; continue; fi
  if [[ $rest == [:=]* ]]; then words+=("${rest:0:1}"); rest=${rest#?}; continue; fi
  w=${rest%%[[:blank:]:=]*}; words+=("$w"); rest=${rest#"$w"}
done
[[ $line == *[[:blank:]] ]] && words+=("")
COMP_WORDS=("${words[@]}")
COMP_CWORD=$(( ${#words[@]} - 1 ))
complete -p distill >/dev/null || exit 3
_distill distill "${words[-1]}" "${words[-2]}"
# What readline would show: the candidates put back after the text before the word.
printf "%s\n" "${COMPREPLY[@]}" | sort
SH
complete_line() {
  bash --norc --noprofile "$W/harness.sh" "$W/distill.bash" "$1"
}
expect_completion() {  # LINE EXPECTED (candidates joined by spaces)
  local got
  got=$(complete_line "$1" | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$2" ] || fail "completing '$1': expected '$2', got '$got'"
}

commands=$(printf '%s\n' audit build completion copy diff flavors inspect lock outdated prune run sbom test update | sort | tr '\n' ' ' | sed 's/ $//')
expect_completion "distill " "$commands"
expect_completion "distill bu" "build"
expect_completion "distill build --var" "--variant"
expect_completion "distill build cc --variant " "debug debug-nonroot latest nonroot"
expect_completion "distill build cc --variant=debug" "debug debug-nonroot"
expect_completion "distill build cc --compression " "gzip zstd"
expect_completion "distill build ja" "java17 java21"
expect_completion "distill build sp" "specs/"
expect_completion "distill build a" "app.yaml"
expect_completion "distill build cc -o " "docker-archive: docker:// oci-archive: oci:"
expect_completion "distill build cc -o oci:o" "out/"
expect_completion "distill build cc -o oci-archive:im" "image.tar"
expect_completion "distill inspect --j" "--json"
expect_completion "distill inspect --json " "docker-archive: docker:// oci-archive: oci:"
expect_completion "distill build --refresh ja" "java17 java21"
expect_completion "distill diff oci:a " "docker-archive: docker:// oci-archive: oci:"
expect_completion "distill diff oci:a oci:b --platform linux/arm" "linux/arm/v5 linux/arm/v7 linux/arm64/v8"
expect_completion "distill test oci:x --output " "json junit text"
expect_completion "distill run oci:x --network " "host none"
expect_completion "distill completion " "bash fish zsh"
# The candidates for the command word are what compgen gives for the same list.
got=$(complete_line "distill c" | tr '\n' ' ')
want=$(compgen -W "$commands" -- c | sort | tr '\n' ' ')
[ "$got" = "$want" ] || fail "distill c: '$got' vs compgen '$want'"
# fish, driven with `complete -C` as it completes a command line.
if command -v fish >/dev/null; then
  fish_complete() {  # LINE: the candidates fish offers, sorted, joined by spaces
    fish --no-config -c "source '$W/distill.fish'; complete -C '$1'" | cut -f1 | sort | tr '\n' ' ' | sed 's/ $//'
  }
  [ "$(fish_complete "distill build cc --variant ")" = "debug debug-nonroot latest nonroot" ] ||
    fail "fish: --variant: $(fish_complete "distill build cc --variant ")"
  [ "$(fish_complete "distill ins")" = "inspect" ] || fail "fish: ins: $(fish_complete "distill ins")"
  [ "$(fish_complete "distill build cc -o oci:o")" = "oci:out/" ] ||
    fail "fish: oci:o: $(fish_complete "distill build cc -o oci:o")"
fi
# Every flag of build (from --help) is offered after "--".
for flag in $("$DISTILL" build --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
  complete_line "distill build cc --" | grep -qx -- "$flag" || fail "build flag $flag not completed"
done

# --- --help examples, did you mean ------------------------------------------
for command in build lock update copy inspect diff run audit sbom outdated test prune flavors completion; do
  help=$("$DISTILL" "$command" --help) || fail "$command --help"
  grep -q '^Examples:' <<<"$help" || fail "$command --help has no examples"
  [ "$(grep -c "^  distill $command\|^  source <(distill $command\|^  distill $command" <<<"$help")" -ge 1 ] ||
    fail "$command --help: no example runs distill $command"
done
usage_error() {  # PATTERN CMD...: exit 2 with one error line matching PATTERN
  local pattern=$1 err rc=0
  shift
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] || fail "expected exit 2 from: $* (got $rc): $err"
  [ "$(wc -l <<<"$err")" -eq 1 ] || fail "expected one line from: $*, got: $err"
  grep -Fq "$pattern" <<<"$err" || fail "expected '$pattern' from: $*, got: $err"
}
usage_error "unknown command 'biuld' (did you mean 'build'?)" "$DISTILL" biuld cc
usage_error "build: unknown option '--varient' (did you mean '--variant'?)" "$DISTILL" build cc --varient nonroot
usage_error "inspect: unknown option '--jsno' (did you mean '--json'?)" "$DISTILL" inspect oci:x --jsno
usage_error "invalid platform 'arm64'" "$DISTILL" diff oci:a oci:b --platform arm64
printf 'name: x\nentrypont: ["/x"]\n' >typo.yaml
err=$("$DISTILL" build typo.yaml -o oci:out/typo 2>&1) && fail "a spec with a typo built"
grep -Fq "typo.yaml:2: unknown key 'entrypont' (did you mean 'entrypoint'?)" <<<"$err" ||
  fail "spec typo: $err"
[ ! -e out/typo ] || fail "a failed build left out/typo"

# --- manual pages ------------------------------------------------------------
need man col
mkdir -p man
"$DISTILL" __man "$W/man/man1" || fail "__man"
pages=$(ls "$W/man/man1")
[ "$(wc -l <<<"$pages")" -eq 15 ] || fail "expected distill.1 and 14 command pages, got: $pages"
for page in "$W"/man/man1/*.1; do
  text=$(MANWIDTH=100 MAN_KEEP_FORMATTING=0 man -l "$page" 2>"$W/man.err" | col -b) ||
    fail "man -l $page"
  [ ! -s "$W/man.err" ] || fail "man -l $page warned: $(cat "$W/man.err")"
  grep -q '^NAME' <<<"$text" || fail "$page: no NAME section"
  grep -q 'SEE ALSO' <<<"$text" || fail "$page: no SEE ALSO"
done
text=$(MANWIDTH=100 man -l "$W/man/man1/distill-build.1" 2>/dev/null | col -b)
grep -q -- '--variant' <<<"$text" || fail "distill-build.1 lacks --variant"
grep -q 'distill build app.yaml --variant nonroot' <<<"$text" || fail "distill-build.1 lacks its examples"
# The same sources give the same pages.
"$DISTILL" __man "$W/man2" || fail "__man again"
diff -r "$W/man/man1" "$W/man2" || fail "the manual pages differ between two runs"

# --- cmake --install with a prefix -------------------------------------------
if [ -n "${DISTILL_BUILD_DIR:-}" ]; then
  [ -f "$DISTILL_BUILD_DIR/share/docs.stamp" ] || fail "the build made no manual pages (ninja docs)"
  cmake --install "$DISTILL_BUILD_DIR" --prefix "$W/prefix" >/dev/null || fail "cmake --install"
  for f in bin/distill share/man/man1/distill.1 share/man/man1/distill-inspect.1 \
    share/bash-completion/completions/distill share/zsh/site-functions/_distill \
    share/fish/vendor_completions.d/distill.fish; do
    [ -s "$W/prefix/$f" ] || fail "cmake --install did not install $f"
  done
  cmp "$W/prefix/share/bash-completion/completions/distill" "$W/distill.bash" ||
    fail "the installed bash completion differs from distill completion bash"
  MANPATH="$W/prefix/share/man" man -w distill-build >/dev/null || fail "man distill-build not found under the prefix"
else
  echo "note: DISTILL_BUILD_DIR unset (not run by ctest); install not checked" >&2
fi
echo "PASS"
