#!/usr/bin/python3
"""Asks the X window titled argv[1] to close, as a window manager's close button does: a
WM_DELETE_WINDOW client message. Under Xvfb there is no window manager to do it for the tests."""
import sys
from Xlib import X, display, protocol

def find(window, title, wm_name):
    try:
        name = window.get_full_property(wm_name, 0)
        if name is not None and name.value.decode("utf-8", "replace") == title:
            return window
    except Exception:
        pass
    for child in window.query_tree().children:
        found = find(child, title, wm_name)
        if found is not None:
            return found
    return None

d = display.Display()
title = sys.argv[1]
target = find(d.screen().root, title, d.intern_atom("_NET_WM_NAME"))
if target is None:
    sys.exit(f"no window titled {title!r}")
protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
event = protocol.event.ClientMessage(window=target, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
target.send_event(event, event_mask=X.NoEventMask)
d.flush()
