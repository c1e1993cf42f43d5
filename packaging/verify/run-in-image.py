#!/usr/bin/env python3
"""Runs a command in an unpacked image the way a container runtime would start it, without one:
chroot into the image's root filesystem, the image's user, environment and working folder,
then exec (this process becomes the command: a signal sent to its pid reaches it).

Usage: run-in-image.py ROOTFS IMAGE_CONFIG [--pod POD_JSON] [--env K=V]... [-- ARGS...]

IMAGE_CONFIG is the image's OCI config (`skopeo inspect --config`): Entrypoint, Cmd, Env, User,
WorkingDir. ARGS replace Cmd, as `docker run IMAGE ARGS` does. POD_JSON is a container of a
Kubernetes pod spec, reduced by verify/pod.lua: `command` replaces Entrypoint (and Cmd),
`args` replaces Cmd, `env` (name -> value) and `workingDir` add to the image's,
`runAsUser`/`runAsGroup` replace its user, as the kubelet does. --env entries come last, so a
test can point a URL at a local peer.

Like a runtime, it gives the command a /proc and a /dev of its own (a tmpfs with null, zero,
full, random, urandom and tty), in a mount namespace of its own, so nothing is left mounted
when it ends. What a runtime also does and this does not: the other namespaces, cgroups, a
read-only root (the image's files belong to root, so its non-root user cannot write them
anyway). Must run as root (unshare, mount, chroot).
"""
import ctypes
import json
import os
import subprocess
import sys

CLONE_NEWNS = 0x00020000
DEVICES = ["null", "zero", "full", "random", "urandom", "tty"]


def fail(message):
    print(f"run-in-image: {message}", file=sys.stderr)
    sys.exit(125)


def mount(*args):
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"mount {' '.join(args)}: {result.stderr.strip()}")


def mount_system(rootfs):
    """/proc and a minimal /dev in the image, in a mount namespace of this process alone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        fail(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
    mount("--make-rprivate", "/")
    for name in ("proc", "dev"):
        os.makedirs(os.path.join(rootfs, name), exist_ok=True)
    mount("-t", "proc", "proc", os.path.join(rootfs, "proc"))
    dev = os.path.join(rootfs, "dev")
    mount("-t", "tmpfs", "-o", "mode=755,size=64k", "tmpfs", dev)
    for name in DEVICES:
        node = os.path.join(dev, name)
        open(node, "w").close()
        mount("--bind", f"/dev/{name}", node)


def main():
    argv = sys.argv[1:]
    args = None
    if "--" in argv:
        cut = argv.index("--")
        argv, args = argv[:cut], argv[cut + 1:]
    if len(argv) < 2:
        fail("usage: run-in-image.py ROOTFS IMAGE_CONFIG [--pod POD_JSON] [--env K=V]... [-- ARGS...]")
    rootfs, config_path, rest = argv[0], argv[1], argv[2:]
    with open(config_path) as f:
        config = json.load(f).get("config") or {}
    pod, extra_env = {}, []
    while rest:
        flag = rest.pop(0)
        if flag == "--pod" and rest:
            with open(rest.pop(0)) as f:
                pod = json.load(f)
        elif flag == "--env" and rest and "=" in rest[0]:
            extra_env.append(rest.pop(0))
        else:
            fail(f"unexpected argument {flag!r}")

    entrypoint = config.get("Entrypoint") or []
    cmd = config.get("Cmd") or []
    if pod.get("command"):
        entrypoint, cmd = pod["command"], []
    if pod.get("args") is not None:
        cmd = pod["args"]
    if args is not None:
        cmd = args
    command = entrypoint + cmd
    if not command:
        fail("the image has no entrypoint and no command was given")

    env = {}
    for entry in config.get("Env") or []:
        key, _, value = entry.partition("=")
        env[key] = value
    env.update(pod.get("env") or {})
    for entry in extra_env:
        key, _, value = entry.partition("=")
        env[key] = value

    user, _, group = (config.get("User") or "0").partition(":")
    if not user.isdigit() or (group and not group.isdigit()):
        fail(f"image user {config.get('User')!r} is not numeric (a scratch image has no name lookup)")
    uid = int(pod.get("runAsUser", user))
    gid = int(pod.get("runAsGroup", group or user))
    workdir = pod.get("workingDir") or config.get("WorkingDir") or "/"

    mount_system(rootfs)
    os.chroot(rootfs)
    os.chdir(workdir)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    try:
        os.execvpe(command[0], command, env)
    except OSError as e:
        fail(f"cannot exec {command[0]!r} in the image: {e}")


if __name__ == "__main__":
    main()
