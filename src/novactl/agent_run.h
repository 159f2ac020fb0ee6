// `novactl run NAME [spawn options] -- CMD...`: spawn, stream the agent's
// output, wait for it to end and exit with its own exit status, or with a
// code of its own for the endings that are not the command's (OOM kill,
// hard timeout, relief, a kill). SIGINT, SIGTERM or SIGHUP to novactl stops
// the agent (through novad, as `novactl kill`) before novactl exits. This is
// how a batch system or a script drives one agent and waits for it.
#pragma once

#include <string_view>

#include "nova_bus.h"
#include "outcome.h"

namespace nova {

// Exit codes of `novactl run` for endings that are not the agent's own exit
// status (an agent that exits with one of these itself reads the same;
// `novactl status NAME` tells them apart).
inline constexpr int kRunExitRelief = 121;   // killed by novad's relief (host memory)
inline constexpr int kRunExitOom = 122;      // OOM-killed at its MemoryMax
inline constexpr int kRunExitKilled = 123;   // stopped with novactl kill by its user or root
inline constexpr int kRunExitTimeout = 124;  // hard timeout (RuntimeMaxSec), as timeout(1)
inline constexpr int kRunExitNoOutcome = 1;  // how it ended was not recorded

// The exit code for how an agent ended: its exit status; 128+N when signal N
// ended it otherwise; the codes above.
int RunExitCode(const Outcome& outcome);

// A signal's number from systemd's name for it ("TERM", "SIGTERM") or its
// number ("15"); 0 when unknown.
int SignalNumber(std::string_view name);

// Spawns `request` and follows it to its end; returns the exit code.
int RunAgent(const SpawnRequest& request);

}  // namespace nova
