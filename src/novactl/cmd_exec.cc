#include "agent_exec.h"
#include "commands.h"

namespace nova {

void AddExecCommand(CLI::App& app) {
  struct Options {
    std::string name;
    std::vector<std::string> command;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "exec", "Run a command inside a running agent, on your terminal, with its exit status");
  cmd->footer(
      "\nThe command runs in the agent's unit (its cgroup): its memory and processes\n"
      "count against the agent's MemoryMax and TasksMax, the priority policy applies to\n"
      "it, and it is killed with the agent. It runs as you, with your environment, your\n"
      "working directory and your terminal (stdin, stdout, stderr), outside the agent's\n"
      "sandbox: it sees the files you see, not what the agent's mount namespace shows.\n"
      "Only the agent's user or root may run commands in it; the agent must be running.\n"
      "novactl exits with the command's exit status (128+N if signal N ended it, e.g.\n"
      "137 when the agent is killed), or, when the command never started, with one\n"
      "line on stderr and a code from the table below (5: no such running agent,\n"
      "6: not your agent).\n\n"
      "Examples:\n"
      "  novactl exec agent-001 -- ps -ef\n"
      "  novactl exec agent-001 -- cargo test     # counted in agent-001's 4G");
  cmd->add_option("name", o->name, "Agent name (a running agent of yours)")->required();
  cmd->add_option("command", o->command, "The command and its arguments, after --")->required();
  cmd->callback([o] {
    int status = ExecInAgent(o->name, o->command);
    if (status != 0) throw ExitWith{status};
  });
}

}  // namespace nova
