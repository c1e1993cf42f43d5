#!/usr/bin/env python3
"""Record how PyYAML (SafeLoader, YAML 1.1 resolution) reads the corpus.

For every line L of scalars.txt it loads the document "v: L" and prints one
TAB-separated line, in the same shape as reference.go's first columns:

    scalar       the line itself (an empty line stands for the empty value)
    py_type      type of the value yaml.safe_load gives (int, float, bool,
                 NoneType, str, datetime, date)
    py_value     that value, printed the way reference.go prints Go values
                 (floats like Go's strconv.FormatFloat(f, 'g', -1, 64), +Inf,
                 -Inf, NaN; strings quoted like Go's %q; datetimes like Go's
                 RFC3339Nano; None as nil)
    base_loader  the value yaml.BaseLoader gives (no implicit resolution: the
                 nearest PyYAML analogue of decoding into a string field)
    tag          the tag SafeLoader's resolver gives the scalar node

Usage: python3 pyyaml_reference.py [scalars.txt] > pyyaml.tsv
"""
import datetime
import decimal
import math
import sys

import yaml

LONG = "tag:yaml.org,2002:"


def go_float(f):
    """Go's strconv.FormatFloat(f, 'g', -1, 64), with +Inf/-Inf/NaN."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    neg = f < 0
    _, digits, exp = decimal.Decimal(repr(abs(f))).as_tuple()
    ds = "".join(map(str, digits)).lstrip("0")
    stripped = ds.rstrip("0")
    exp += len(ds) - len(stripped)
    ds = stripped
    nd = len(ds)
    dp = nd + exp  # value = 0.<ds> * 10**dp
    x = dp - 1
    if x < -4 or x >= 6:  # shortest 'g' uses %e when exp < -4 || exp >= 6
        s = ds[0] + ("." + ds[1:] if nd > 1 else "")
        s += "e" + ("-" if x < 0 else "+") + "%02d" % abs(x)
    elif dp <= 0:
        s = "0." + "0" * (-dp) + ds
    elif dp >= nd:
        s = ds + "0" * (dp - nd)
    else:
        s = ds[:dp] + "." + ds[dp:]
    return ("-" if neg else "") + s


def go_quote(s):
    """Go's strconv.Quote for the strings this corpus produces."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        elif not ch.isprintable():
            out.append("\\u%04x" % o if o <= 0xFFFF else "\\U%08x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_time(t):
    """Go's time.RFC3339Nano; a naive datetime is printed without an offset."""
    if isinstance(t, datetime.datetime):
        s = t.strftime("%Y-%m-%dT%H:%M:%S")
        if t.microsecond:
            s += ("." + "%06d" % t.microsecond).rstrip("0")
        off = t.utcoffset()
        if off is None:
            return s
        if off == datetime.timedelta(0):
            return s + "Z"
        mins = int(off.total_seconds()) // 60
        sign = "+" if mins >= 0 else "-"
        mins = abs(mins)
        return s + "%s%02d:%02d" % (sign, mins // 60, mins % 60)
    return t.isoformat()  # datetime.date


def fmt_value(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return go_time(v)
    return repr(v)


def err(e):
    return "error: " + " ".join(str(e).split())


def row(scalar):
    doc = "v: " + scalar + "\n"
    out = [scalar]
    try:
        v = yaml.load(doc, Loader=yaml.SafeLoader)["v"]
        out += [type(v).__name__, fmt_value(v)]
    except Exception as e:  # noqa: BLE001 - every failure is an answer
        out += ["error", err(e)]
    try:
        b = yaml.load(doc, Loader=yaml.BaseLoader)["v"]
        out.append(go_quote(b) if isinstance(b, str) else fmt_value(b))
    except Exception as e:  # noqa: BLE001
        out.append(err(e))
    try:
        node = yaml.compose(doc, Loader=yaml.SafeLoader).value[0][1]
        tag = node.tag
        out.append("!!" + tag[len(LONG):] if tag.startswith(LONG) else tag)
    except Exception as e:  # noqa: BLE001
        out.append(err(e))
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "scalars.txt"
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    w = sys.stdout
    w.write("scalar\tpy_type\tpy_value\tbase_loader\ttag\n")
    for line in lines:
        w.write("\t".join(row(line.rstrip("\r"))) + "\n")


if __name__ == "__main__":
    main()
