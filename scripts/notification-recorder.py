#!/usr/bin/env python3
"""A recording freedesktop notification server for the package test (scripts/test-packages.sh).

Owns org.freedesktop.Notifications on the current session bus (run it under dbus-run-session),
prints one JSON line per Notify call on stdout — app_name, summary, body and the hint names — and
exits after --count notifications or --timeout seconds (status 1 if too few arrived). With --tray
it is also the desktop's tray (org.kde.StatusNotifierWatcher with a host registered), so the app
lives in the tray as on a real desktop, and prints {"tray_item": …} when the app's icon registers.
The Rust tests have their own, richer servers (tests/support/notification_server.rs,
src-tauri/tests/support/watcher.rs); this one needs only the system's python3-dbus and python3-gi,
so it can watch an installed package without a build.
"""

import argparse
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
PROPERTIES = "org.freedesktop.DBus.Properties"


class Recorder(dbus.service.Object):
    """The server's D-Bus object: records Notify, answers the rest as a minimal server would."""

    def __init__(self, bus, loop, count):
        super().__init__(bus, PATH)
        self.loop = loop
        self.count = count
        self.seen = 0

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout):
        self.seen += 1
        record = {
            "app_name": str(app_name),
            "summary": str(summary),
            "body": str(body),
            "hints": sorted(str(k) for k in hints.keys()),
        }
        print(json.dumps(record), flush=True)
        if self.seen >= self.count:
            GLib.idle_add(self.loop.quit)
        return replaces_id or self.seen

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, notification_id):
        pass

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body", "actions", "persistence", "sound"]

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("sse-tray-package-test", "sse-tray", "1.0", "1.2")


class Tray(dbus.service.Object):
    """A StatusNotifierWatcher whose host is always there: records the items that register."""

    def __init__(self, bus):
        super().__init__(bus, WATCHER_PATH)
        self.items = []

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        self.items.append(str(service))
        print(json.dumps({"tray_item": str(service), "sender": str(sender)}), flush=True)

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    def properties(self):
        return {
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "ProtocolVersion": dbus.Int32(0),
        }

    @dbus.service.method(PROPERTIES, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        return self.properties()[str(name)]

    @dbus.service.method(PROPERTIES, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return self.properties()


def own(bus, name):
    reply = bus.request_name(name, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    if reply != dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER:
        sys.exit(f"notification-recorder: could not own {name} (reply {reply})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1, help="notifications to wait for")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait")
    parser.add_argument("--ready", help="file to create once the names are owned")
    parser.add_argument("--tray", action="store_true", help="also be the tray (a watcher and host)")
    args = parser.parse_args()

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    loop = GLib.MainLoop()
    recorder = Recorder(bus, loop, args.count)
    own(bus, NAME)
    if args.tray:
        tray = Tray(bus)  # noqa: F841 (kept alive by the bus, named for clarity)
        own(bus, WATCHER)
    if args.ready:
        open(args.ready, "w").close()
    GLib.timeout_add(int(args.timeout * 1000), loop.quit)
    loop.run()
    if recorder.seen < args.count:
        sys.exit(f"notification-recorder: {recorder.seen} of {args.count} notifications in {args.timeout} s")


if __name__ == "__main__":
    main()
