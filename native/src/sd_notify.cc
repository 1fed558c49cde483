// Node has no AF_UNIX datagram sockets, so readiness, status and watchdog pings go through here.
#include "sd_notify.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

bool sd_notify_send(const std::string& state, std::string* error) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const size_t len = std::strlen(path);
    if (len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@')) {
        if (error) *error = "NOTIFY_SOCKET is not an absolute or abstract socket path";
        return false;
    }
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    const socklen_t addr_len = (socklen_t)(offsetof(sockaddr_un, sun_path) + len);

    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (error) *error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    // Never block the event loop: a manager that is not reading must not stall the daemon.
    const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT, (const sockaddr*)&addr, addr_len);
    const int saved = errno;
    close(fd);
    if (sent < 0) {
        if (error) *error = std::string("sendto ") + path + ": " + std::strerror(saved);
        return false;
    }
    return true;
}
