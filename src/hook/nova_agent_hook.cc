#include "agent_hook.h"

int main(int argc, char** argv) { return nova::RunAgentHook(argc, argv); }
