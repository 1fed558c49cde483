// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
#pragma once
#include <string>

// Sends `state` (e.g. "READY=1\nSTATUS=loaded") to the service manager.
// Returns false when NOTIFY_SOCKET is unset (not under systemd); throws nothing.
// On a send failure returns false and fills `error`.
bool sd_notify_send(const std::string& state, std::string* error);
