#include <iostream>

#include "agent_run.h"
#include "commands.h"
#include "spawn_input.h"

namespace nova {

void AddRunCommand(CLI::App& app) {
  auto input = std::make_shared<SpawnInput>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Spawn an agent, stream its output, wait for it, exit with its exit status");
  cmd->footer(
      std::string(kSpawnLimitsHelp) +
      "\nThe options are spawn's. The agent's output (stdout and stderr, from the\n"
      "journal, escaped as novactl logs shows it) goes to novactl's stdout until the\n"
      "agent ends; then novactl exits with the agent's exit status, 128+N if signal N\n"
      "ended it, or:\n"
      "  121  killed by novad's relief (host memory)\n"
      "  122  OOM-killed at its memory limit (MemoryMax)\n"
      "  123  stopped with novactl kill (by its user or root)\n"
      "  124  hard timeout (RuntimeMax), as timeout(1)\n"
      "and says how it ended on stderr whenever that is not 0. SIGINT (Ctrl-C),\n"
      "SIGTERM or SIGHUP to novactl stops the agent, as novactl kill does, then\n"
      "novactl exits with 128+that signal (130, 143, 129). Before the agent starts,\n"
      "failures are one line and a code of the table below (3: admission refused).\n\n"
      "Example, as a batch job:\n"
      "  novactl run job-42 --workdir /var/nova-agents/pool/ws-042 --timeout 20m -- make test");
  AddSpawnOptions(*cmd, *input);
  cmd->callback([input] {
    int code = RunAgent(BuildSpawnRequest(*input, std::cin));
    if (code != 0) throw ExitWith{code};
  });
}

}  // namespace nova
