"""Python's answers for time_python.lua, from datetime + zoneinfo (the system tz database,
the one Assay reads) and email.utils. Reads a JSON request, writes a JSON answer:
formats[i]  = {format: strftime(FORMAT), iso0/iso3/iso6: isoformat(timespec)} of ts in tz
locals[i]   = timestamp of a naive local time in tz, fold=0
customs[i]  = timestamp of strptime(text, format) (naive ones read in tz)
https[i]    = timestamp of an HTTP date (parsedate_to_datetime; a naive one is UTC)"""
import json
import sys
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

request = json.load(open(sys.argv[1]))
FORMAT = request["format"]


def zone(name):
    return timezone.utc if name == "UTC" else ZoneInfo(name)


def iso(moment, spec, tz):
    text = moment.isoformat(timespec=spec)
    return text[:-6] + "Z" if tz == "UTC" else text


answer = {"formats": [], "locals": [], "customs": [], "https": []}
for case in request["formats"]:
    moment = datetime.fromtimestamp(case["ts"], zone(case["tz"]))
    answer["formats"].append({
        "format": moment.strftime(FORMAT),
        "iso0": iso(moment, "seconds", case["tz"]),
        "iso3": iso(moment, "milliseconds", case["tz"]),
        "iso6": iso(moment, "microseconds", case["tz"]),
    })
for case in request["locals"]:
    naive = datetime.fromisoformat(case["local"])
    answer["locals"].append(naive.replace(tzinfo=zone(case["tz"]), fold=0).timestamp())
for case in request["customs"]:
    parsed = datetime.strptime(case["text"], case["format"])
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(case["tz"]))
    answer["customs"].append(parsed.timestamp())
for text in request["https"]:
    parsed = parsedate_to_datetime(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    answer["https"].append(parsed.timestamp())
json.dump(answer, sys.stdout)
