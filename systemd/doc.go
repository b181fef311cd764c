// Package systemd speaks the two small protocols by which systemd starts
// and supervises a service, written inline (each is a few lines of
// documented protocol, not worth a dependency):
//
//   - Notifier sends sd_notify(3) state changes (READY=1, RELOADING=1,
//     STOPPING=1) as one datagram to $NOTIFY_SOCKET, for Type=notify and
//     Type=notify-reload units.
//   - Listeners takes the sockets systemd passes to a socket-activated
//     service (sd_listen_fds(3): $LISTEN_PID, $LISTEN_FDS, $LISTEN_FDNAMES,
//     descriptors from 3 on), so that the service can serve a privileged
//     port without root and the socket outlives a restart.
//
// Outside systemd both do nothing: NewNotifier returns nil (whose methods
// are no-ops) and Listeners returns no listeners.
package systemd
