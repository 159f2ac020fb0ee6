// What `novactl spawn` turns its options into: the request novad gets. Done
// here, as the caller, so that the command is found on the caller's PATH, the
// workdir is the caller's, and secrets are read with the caller's rights;
// novad never opens a path a caller names.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "nova_bus.h"

namespace nova {

// The options of `novactl spawn`, as typed.
struct SpawnInput {
  std::string name, workdir, memory, tasks, timeout, soft_timeout, user, sandbox;
  std::vector<std::string> environment, secrets, command, allow_ip;
};

// Like systemd-run: a command without '/' is found on PATH, so that the agent
// runs what the caller would have run. Throws InvalidArgument if it is not.
std::string ResolveCommand(const std::string& command);

// Checks and converts the options; `--secret NAME=@-` reads `input`. Throws
// InvalidArgument with one line.
SpawnRequest BuildSpawnRequest(const SpawnInput& options, std::istream& input);

}  // namespace nova
