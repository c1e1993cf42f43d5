#!/usr/bin/env python3
"""Runs a command in an unpacked image the way a container runtime would start it, without one:
a mount namespace of its own, chroot into the image's root filesystem, the image's user,
environment and working folder, then exec (this process becomes the command: a signal sent to
its pid reaches it).

Usage: run-in-image.py ROOTFS IMAGE_CONFIG [--pod POD_JSON] [--entrypoint PROG] [--read-only]
                       [--bind SRC:DST]... [--tmpfs DST]... [--env K=V]... [-- ARGS...]

IMAGE_CONFIG is the image's OCI config (`skopeo inspect --config`): Entrypoint, Cmd, Env, User,
WorkingDir. ARGS replace Cmd, as `docker run IMAGE ARGS` does, and --entrypoint the
Entrypoint, as `docker run --entrypoint PROG` does. POD_JSON is a container of a
Kubernetes pod spec, reduced by verify/pod.lua: `command` replaces Entrypoint (and Cmd),
`args` replaces Cmd, `env` (name -> value) adds to the image's, `workingDir`,
`runAsUser`/`runAsGroup` replace the image's, `readOnlyRootFilesystem`, and `mounts` (a
ConfigMap's files bound read-only, an emptyDir as a tmpfs), as the kubelet does. --env entries
come last, so a test can point a URL at a local peer.

As a runtime does, the command gets its own /proc, a /dev tmpfs with null, zero, full, random,
urandom and tty, and the host's /etc/hosts and /etc/resolv.conf; with --read-only (or the pod's
readOnlyRootFilesystem) the root is mounted read-only, only the mounts writable. Mount points
are made inside the root without following its symlinks (an image whose /tmp links to /etc
cannot make this write to the host's). Nothing stays mounted when the command ends. What a
runtime also does and this does not: the other namespaces, cgroups, seccomp. Must run as root.
"""
import ctypes
import json
import os
import subprocess
import sys

CLONE_NEWNS = 0x00020000
DEVICES = ["null", "zero", "full", "random", "urandom", "tty"]
HOST_FILES = ["/etc/hosts", "/etc/resolv.conf"]


def fail(message):
    print(f"run-in-image: {message}", file=sys.stderr)
    sys.exit(125)


def mount(*args):
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"mount {' '.join(args)}: {result.stderr.strip()}")


def mount_point(rootfs, target, is_dir):
    """The path of `target` (absolute, in the image) under `rootfs`, made if missing, never
    through a symlink: each existing component must be a real folder."""
    parts = [p for p in target.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        fail(f"mount target {target!r} is not an absolute path inside the image")
    path = rootfs
    for i, part in enumerate(parts):
        path = os.path.join(path, part)
        last = i == len(parts) - 1
        if os.path.islink(path):
            fail(f"{target}: {path} is a symlink in the image; not mounting through it")
        if os.path.exists(path):
            if not last and not os.path.isdir(path):
                fail(f"{target}: {path} is not a folder")
            continue
        if last and not is_dir:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644))
        else:
            os.mkdir(path, 0o755)
    return path


def prepare_mounts(rootfs, binds, tmpfs, read_only):
    """/proc, /dev, the host's name files, the binds and tmpfs mounts, and a read-only root,
    in a mount namespace of this process alone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        fail(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
    mount("--make-rprivate", "/")
    # Every mount point first: the root may become read-only.
    proc = mount_point(rootfs, "/proc", True)
    dev = mount_point(rootfs, "/dev", True)
    files = [(host, mount_point(rootfs, host, False)) for host in HOST_FILES if os.path.exists(host)]
    bound = [(src, mount_point(rootfs, dst, os.path.isdir(src))) for src, dst in binds]
    scratch = [mount_point(rootfs, dst, True) for dst in tmpfs]
    mount("--bind", rootfs, rootfs)
    mount("-t", "proc", "proc", proc)
    mount("-t", "tmpfs", "-o", "mode=755,size=64k", "tmpfs", dev)
    for name in DEVICES:
        node = os.path.join(dev, name)
        open(node, "w").close()
        mount("--bind", f"/dev/{name}", node)
    for host, point in files:
        mount("--bind", "-o", "ro", host, point)
    for src, point in bound:
        mount("--bind", "-o", "ro", src, point)
    for point in scratch:
        mount("-t", "tmpfs", "-o", "mode=1777,size=16m", "tmpfs", point)
    if read_only:
        mount("-o", "remount,bind,ro", rootfs)


def main():
    argv = sys.argv[1:]
    args = None
    if "--" in argv:
        cut = argv.index("--")
        argv, args = argv[:cut], argv[cut + 1:]
    if len(argv) < 2:
        fail(__doc__.split("\n\n")[1])
    rootfs, config_path, rest = os.path.realpath(argv[0]), argv[1], argv[2:]
    with open(config_path) as f:
        config = json.load(f).get("config") or {}
    pod, extra_env, binds, tmpfs, read_only, entry = {}, [], [], [], False, None
    while rest:
        flag = rest.pop(0)
        if flag == "--pod" and rest:
            with open(rest.pop(0)) as f:
                pod = json.load(f)
        elif flag == "--env" and rest and "=" in rest[0]:
            extra_env.append(rest.pop(0))
        elif flag == "--bind" and rest and ":" in rest[0]:
            src, _, dst = rest.pop(0).partition(":")
            binds.append((src, dst))
        elif flag == "--tmpfs" and rest:
            tmpfs.append(rest.pop(0))
        elif flag == "--entrypoint" and rest:
            entry = [rest.pop(0)]
        elif flag == "--read-only":
            read_only = True
        else:
            fail(f"unexpected argument {flag!r}")
    for m in pod.get("mounts") or []:
        if m["type"] == "bind":
            binds.append((m["source"], m["target"]))
        else:
            tmpfs.append(m["target"])
    read_only = read_only or bool(pod.get("readOnlyRootFilesystem"))

    entrypoint = entry or config.get("Entrypoint") or []
    cmd = [] if entry else config.get("Cmd") or []
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
    # Kubernetes without runAsGroup: the image's group when the user is the image's, else 0.
    gid = int(pod.get("runAsGroup", (group or user) if uid == int(user) else 0))
    workdir = pod.get("workingDir") or config.get("WorkingDir") or "/"

    prepare_mounts(rootfs, binds, tmpfs, read_only)
    os.chroot(rootfs)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    # After dropping root: a working folder the user cannot enter fails as in a container.
    try:
        os.chdir(workdir)
    except OSError as e:
        fail(f"cannot enter the working folder {workdir!r} as {uid}:{gid}: {e.strerror}")
    try:
        os.execvpe(command[0], command, env)
    except OSError as e:
        fail(f"cannot exec {command[0]!r} in the image: {e}")


if __name__ == "__main__":
    main()
