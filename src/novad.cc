// novad: owns org.nova.Nova1 on the system bus and runs Nova's policy. It
// keeps no state of its own: agents live in systemd, outcomes in files, so a
// restart or an upgrade of novad loses nothing and touches no agent.
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>

#include "agent_manager.h"
#include "build_config.h"
#include "config.h"
#include "errors.h"
#include "meminfo.h"
#include "nova_service.h"
#include "outcome.h"
#include "priority_policy.h"
#include "priority_sweep.h"
#include "systemd.h"

namespace {

// How often the priority sweep re-checks agents' processes (when enabled).
constexpr std::chrono::seconds kSweepInterval(2);

int Run(const std::string& config_path) {
  nova::Config config = nova::LoadConfig(config_path);
  auto systemd = nova::ConnectSystemd();
  nova::OutcomeStore outcomes(nova::kStateDir, nova::kRuntimeDir);
  nova::PriorityPolicy priority = nova::ReadPriorityPolicy();
  const char* prio_mgmt = std::getenv("CODER_PROC_PRIO_MGMT");
  if (priority.enabled) {
    spdlog::info(
        "process priority management enabled (CODER_PROC_PRIO_MGMT=\"{}\", os linux): "
        "agents get oom_score_adj {} and nice {}",
        prio_mgmt, priority.oom_score_adj, priority.nice);
  } else {
    spdlog::info(
        "process priority management not enabled (linux-only) (CODER_PROC_PRIO_MGMT unset, "
        "os linux)");
  }
  for (const auto& problem : priority.problems) spdlog::error("{}", problem);
  nova::AgentManager manager(*systemd, config, outcomes, nova::ReadHostMemory, nova::kAgentHookPath,
                             priority);

  auto agents = systemd->AgentStates();
  spdlog::info("novad {} starting: systemd {}, {} running agent(s) found", nova::kVersion,
               systemd->Version(), std::count_if(agents.begin(), agents.end(), [](auto& a) {
                 return a.second.live();
               }));

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);

  auto connection = sdbus::createSystemBusConnection();
  nova::NovaService service(*connection, manager);
  connection->requestName(nova::kBusName);
  spdlog::info("serving {} on the system bus", nova::kBusName);

  nova::PrioritySweeper sweeper(priority);
  auto next_sweep = std::chrono::steady_clock::now();

  for (;;) {
    while (connection->processPendingRequest()) {
    }
    int timeout = connection->getEventLoopPollData().getPollTimeout();
    if (priority.enabled) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_sweep) {
        sweeper.Sweep();
        next_sweep = now + kSweepInterval;
      }
      int until_sweep = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(next_sweep - now).count());
      if (timeout < 0 || until_sweep < timeout) timeout = std::max(until_sweep, 0);
    }
    auto poll_data = connection->getEventLoopPollData();
    pollfd fds[2] = {{poll_data.fd, poll_data.events, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, timeout) < 0 && errno != EINTR) {
      throw nova::Error(nova::ErrorKind::kFailed, std::string("poll: ") + std::strerror(errno));
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof info) > 0) {
        spdlog::info("received signal {}, stopping; agents keep running", info.ssi_signo);
      }
      return 0;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // journald adds the timestamp and the unit; keep the lines plain.
  auto logger = spdlog::stdout_logger_mt("novad");
  logger->set_pattern("%l: %v");
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  std::string config_path = nova::kConfigPath;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--version") {
      std::cout << "novad " << nova::kVersion << std::endl;
      return 0;
    } else {
      std::cout << "usage: novad [--config FILE] [--version]\n\n"
                   "The Nova daemon; run by systemd as novad.service. Configuration: "
                << nova::kConfigPath << " (see novad(8)).\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  try {
    return Run(config_path);
  } catch (const nova::Error& e) {
    spdlog::critical("{}", e.what());
    return nova::ExitCodeFor(e.kind());
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
