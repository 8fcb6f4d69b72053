#!/usr/bin/env python3
"""pty_session.py: drives a command on a pseudo-terminal as a person at a
terminal would, for `distill run -it` scenarios.

    pty_session.py SCRIPT -- COMMAND [ARGS...]

The command runs in a new session whose controlling terminal is a fresh pty
(window size 33x101). SCRIPT is a list of steps, one per line:

    send TEXT        write TEXT to the terminal (Python escapes: \\r, \\x03, ...)
    expect TEXT      wait (20 s at most) until the output so far contains TEXT
    resize ROWS COLS set the terminal's window size (the command gets SIGWINCH)
    sleep SECONDS

When the steps are done it waits (60 s at most) for the command to exit, checks
that the terminal's settings are what they were before the command ran (raw mode
undone), prints everything the command wrote and exits with the command's exit
status. A step that times out, or settings left changed, exits 90 with a message.
"""
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    script_path = sys.argv[1]
    command = sys.argv[sys.argv.index("--") + 1:]
    steps = [line.rstrip("\n") for line in open(script_path) if line.strip()]

    master, slave = os.openpty()
    set_size(slave, 33, 101)
    before = termios.tcgetattr(slave)

    def make_controlling():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=make_controlling, close_fds=True)
    output = bytearray()

    def pump(timeout):
        ready, _, _ = select.select([master], [], [], timeout)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                return False
            output.extend(data)
            return bool(data)
        return True

    def die(message):
        sys.stdout.write(output.decode("utf-8", "replace"))
        sys.stdout.write("\npty_session: " + message + "\n")
        proc.kill()
        sys.exit(90)

    for step in steps:
        verb, _, arg = step.partition(" ")
        if verb == "send":
            os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif verb == "expect":
            want = arg.encode().decode("unicode_escape").encode("latin-1")
            deadline = time.monotonic() + 20
            while want not in output:
                if time.monotonic() > deadline or proc.poll() is not None and not pump(0.2):
                    die("timed out waiting for %r" % want)
                pump(0.1)
        elif verb == "resize":
            rows, cols = (int(x) for x in arg.split())
            set_size(slave, rows, cols)
            # TIOCSWINSZ signals the foreground process group of the terminal.
        elif verb == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(0.05)
        else:
            die("unknown step " + step)

    deadline = time.monotonic() + 60
    while proc.poll() is None:
        if time.monotonic() > deadline:
            die("the command did not exit")
        pump(0.1)
    while pump(0.2) and select.select([master], [], [], 0)[0]:
        pass
    after = termios.tcgetattr(slave)
    sys.stdout.write(output.decode("utf-8", "replace"))
    if after != before:
        sys.stdout.write("\npty_session: terminal settings changed: %r -> %r\n" % (before, after))
        sys.exit(90)
    sys.exit(proc.returncode if proc.returncode >= 0 else 128 - proc.returncode)


if __name__ == "__main__":
    main()
