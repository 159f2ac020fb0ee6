// novactl's subcommands. Each cmd_*.cc only declares its options and calls
// into libnova; errors propagate to the one handler in novactl.cc.
#pragma once

#include <CLI/CLI.hpp>

namespace nova {

void AddSpawnCommand(CLI::App& app);
void AddKillCommand(CLI::App& app);
void AddExecCommand(CLI::App& app);
void AddStatusCommand(CLI::App& app);
void AddLogsCommand(CLI::App& app);
void AddSetupHostCommand(CLI::App& app);
void AddDoctorCommand(CLI::App& app);
void AddWatchCommand(CLI::App& app);
void AddEventsCommand(CLI::App& app);
void AddRelieveCommand(CLI::App& app);

// The options `spawn` and `run` share: the agent's name, limits, workdir,
// environment, secrets, user and command.
struct SpawnInput;
void AddSpawnOptions(CLI::App& cmd, SpawnInput& input);
// What their help says about those options' defaults and ceilings.
extern const char* const kSpawnLimitsHelp;
void AddRunCommand(CLI::App& app);

// Thrown by a command that has said all it has to say and must only set the
// exit status (doctor on a host that is not ready).
struct ExitWith {
  int code;
};

}  // namespace nova
