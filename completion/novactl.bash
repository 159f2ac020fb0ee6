# bash completion for novactl: subcommands, options, and agent names from the
# running agent units (the same view `novactl status` has, without novad).
_novactl_agents() {
  systemctl list-units --all --no-legend --plain 'nova-agent-*.service' 2>/dev/null |
    sed -n 's/^nova-agent-\(.*\)\.service .*/\1/p'
}

_novactl() {
  local cur prev words cword
  _init_completion || return
  local commands="spawn run exec kill status logs watch events relieve setup-host doctor"
  local i cmd=""
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      spawn | run | exec | kill | status | logs | watch | events | relieve | setup-host | doctor) cmd=${words[i]}; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  case $prev in
    --workdir | -w) _filedir -d; return ;;
    --user | -u) COMPREPLY=($(compgen -u -- "$cur")); return ;;
    --sandbox) COMPREPLY=($(compgen -W "none standard strict" -- "$cur")); return ;;
    --allow-ip) COMPREPLY=($(compgen -W "localhost" -- "$cur")); return ;;
    --memory | -m | --tasks | --timeout | --soft-timeout | --env | -e | --secret | -s | --lines | -n | --since | -S | --scratch-size | --interval | -i | --count | -c | --target | -t) return ;;
  esac
  case $cmd in
    spawn | run)
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--workdir --memory --tasks --timeout --soft-timeout --env --secret --user --sandbox --allow-ip --json --help" -- "$cur"))
      elif [[ " ${words[*]} " == *" -- "* ]]; then
        COMPREPLY=($(compgen -c -- "$cur"))
      fi
      ;;
    exec)
      if [[ " ${words[*]} " == *" -- "* ]]; then
        COMPREPLY=($(compgen -c -- "$cur"))
      else
        COMPREPLY=($(compgen -W "--help $(_novactl_agents)" -- "$cur"))
      fi
      ;;
    kill) COMPREPLY=($(compgen -W "--force --all --user --help $(_novactl_agents)" -- "$cur")) ;;
    status) COMPREPLY=($(compgen -W "--all --json --help $(_novactl_agents)" -- "$cur")) ;;
    logs) COMPREPLY=($(compgen -W "--follow --lines --help $(_novactl_agents)" -- "$cur")) ;;
    setup-host) COMPREPLY=($(compgen -W "--sysctl --scratch --scratch-size --workspaces --all --dry-run --json --help" -- "$cur")) ;;
    watch) COMPREPLY=($(compgen -W "--interval --count --json --help" -- "$cur")) ;;
    events) COMPREPLY=($(compgen -W "--lines --since --follow --json --help" -- "$cur")) ;;
    relieve) COMPREPLY=($(compgen -W "--target --dry-run --json --help" -- "$cur")) ;;
    doctor) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
  esac
}
complete -F _novactl novactl
