// novactl's subcommands. Each cmd_*.cc only declares its options and calls
// into libnova; errors propagate to the one handler in novactl.cc.
#pragma once

#include <CLI/CLI.hpp>

namespace nova {

void AddSpawnCommand(CLI::App& app);
void AddKillCommand(CLI::App& app);
void AddStatusCommand(CLI::App& app);
void AddLogsCommand(CLI::App& app);

}  // namespace nova
