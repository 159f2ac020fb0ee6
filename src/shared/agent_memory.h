// Each agent's memory, read straight from its cgroup (memory.current,
// memory.max), and the order relief kills in. Shared: novad's watcher decides
// on it, `novactl watch` shows it, both without a D-Bus call per agent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent_name.h"

namespace nova {

struct AgentMemory {
  std::string agent;     // NAME of nova-agent-NAME.service
  uint64_t current = 0;  // memory.current, bytes
  uint64_t max = 0;      // memory.max, bytes (kInfinity for "max")
};

// Kill order: largest memory.current first; equal sizes by name, so the
// order is reproducible.
std::vector<AgentMemory> VictimOrder(std::vector<AgentMemory> agents);

// memory.current and memory.max of every agent in the slice, in name order.
// An agent whose cgroup vanishes while being read is left out.
std::vector<AgentMemory> ReadAgentMemory(const std::string& agents_cgroup = kAgentsCgroup);

}  // namespace nova
