"""`printctl completion bash|zsh`: a shell script generated from printctl's own parser, so
completion never lags behind the verbs. zsh loads the bash function through bashcompinit."""

from __future__ import annotations

import argparse
import shlex

# Options whose value is a file or folder; other value-taking options complete from choices.
FILE_OPTIONS = ("--socket", "--config")
JOB_VERBS = ("show", "cancel", "hold", "release", "reprint", "reconcile")


def _walk(
    parser: argparse.ArgumentParser, path: str, table: dict[str, tuple[list[str], list[str]]]
) -> dict[str, list[str]]:
    """Fill table[path] = (subcommands, options); return value choices of options."""
    subcommands: list[str] = []
    options: list[str] = []
    values: dict[str, list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                subcommands.append(name)
                values.update(_walk(child, f"{path} {name}".strip(), table))
        elif action.option_strings and action.help != argparse.SUPPRESS:
            options += [o for o in action.option_strings if o.startswith("--")]
            if action.choices is not None:
                for option in action.option_strings:
                    values[option] = [str(c) for c in action.choices]
            elif action.nargs != 0 and action.option_strings[0] not in FILE_OPTIONS:
                values.setdefault(action.option_strings[0], [])
    table[path] = (subcommands, options)
    return values


def bash_script(parser: argparse.ArgumentParser, extra_values: dict[str, list[str]]) -> str:
    table: dict[str, tuple[list[str], list[str]]] = {}
    values = _walk(parser, "", table)
    values.update(extra_values)
    takes_value = sorted({*values, *FILE_OPTIONS})
    cases = "\n".join(
        f"        {shlex.quote(path)}) subs={shlex.quote(' '.join(subs))}; "
        f"opts={shlex.quote(' '.join(opts))};;"
        for path, (subs, opts) in sorted(table.items())
    )
    value_cases = "\n".join(
        f"        {option}) COMPREPLY=($(compgen -W {shlex.quote(' '.join(choices))} "
        '-- "$cur")); return;;'
        for option, choices in sorted(values.items())
    )
    return f"""# printctl shell completion (bash). Load it with:
#   eval "$(printctl completion bash)"
# or save it as /etc/bash_completion.d/printctl
_printctl() {{
    local cur prev path w i subs opts
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    case "$prev" in
        {"|".join(FILE_OPTIONS)}) COMPREPLY=($(compgen -f -- "$cur")); return;;
{value_cases}
    esac
    path=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        case "$w" in -*) continue;; esac
        case " {" ".join(takes_value)} " in *" ${{COMP_WORDS[i-1]}} "*) continue;; esac
        _printctl_level "$path"
        case " $subs " in *" $w "*) path="${{path:+$path }}$w";; *) break;; esac
    done
    _printctl_level "$path"
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ -n "$subs" ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    elif [[ "$path" == submit ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ " {" ".join(JOB_VERBS)} " == *" $path "* ]]; then
        COMPREPLY=($(compgen -W "$(printctl jobs --ids 2>/dev/null)" -- "$cur"))
    fi
}}
_printctl_level() {{
    case "$1" in
{cases}
        *) subs=""; opts="";;
    esac
}}
complete -F _printctl printctl
"""


def zsh_script(parser: argparse.ArgumentParser, extra_values: dict[str, list[str]]) -> str:
    return (
        "#compdef printctl\n"
        '# printctl shell completion (zsh). Load it with: eval "$(printctl completion zsh)"\n'
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(parser, extra_values)
    )
