// `novactl exec NAME -- CMD...`: runs a command inside a running agent, in
// its unit's cgroup, so that its memory and tasks count against the agent's
// limits and it dies with the agent, while it stays attached to the caller's
// terminal. novactl forks a child that waits on a pipe, novad moves that
// child into the agent (after checking who asks for whom), and only then
// does the child exec the command: nothing of it runs outside the agent.
#pragma once

#include <string>
#include <vector>

namespace nova {

// Runs `command` (its first word looked up on PATH) in agent `name` and
// returns its exit status, 128+N if signal N ended it. SIGINT and SIGQUIT
// are left to the command (the terminal sends them to both), SIGTERM and
// SIGHUP are passed on to it. Throws before the command runs: NotFound
// (agent not running), PermissionDenied (not the agent's user or root),
// InvalidArgument (no command, or not found), Unavailable (novad).
int ExecInAgent(const std::string& name, const std::vector<std::string>& command);

// The exit status novactl reports for a wait(2) status: the code, or
// 128+signal as a shell does.
int ExitStatusOf(int wait_status);

}  // namespace nova
