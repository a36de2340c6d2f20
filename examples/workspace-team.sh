#!/bin/sh
# Runs examples/workspace-team.yaml end to end: makes a throwaway git repository, submits the
# job with its path filled in, follows it, then shows the job branch's history and the merged
# files. Exits non-zero unless the job succeeded.
#
# Run it on the server's machine (the repository is a path there), with a server running
# (`cargo run -- serve`) and its key in the environment:
#   CADRE_API_KEY=sk-orch-… sh examples/workspace-team.sh
# CADRE_URL (default http://127.0.0.1:8080) and CADRE_API_KEY are read by the cadre CLI
# itself. CADRE names the CLI to run: `cadre` on the PATH by default, or e.g.
#   CADRE=target/debug/cadre   or   CADRE="cargo run -q --"
# The repository is left in a temporary directory (under TMPDIR) to look at afterwards.
set -eu

CADRE=${CADRE:-cadre}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cadre-workspace-team.XXXXXX")
repo=$work/repo

# git with an identity of its own, so that it works without any git config.
g() { git -C "$repo" -c user.name=cadre-example -c user.email=example@localhost -c commit.gpgsign=false "$@"; }

# The repository: TEAM.md with one TODO line per section (each worker fills in its own), and
# the check cadre runs in the merged tree before every merge.
mkdir "$repo"
git init -q -b main "$repo"
printf '# Team notes\n\n## Intro\nTODO: intro\n\n## Usage\nTODO: usage\n\n## Status\nTODO: status\n' \
  >"$repo/TEAM.md"
cat >"$repo/check.sh" <<'CHECK'
# The notes keep their title, and hello.sh, once a worker has added it, greets.
grep -q '^# Team notes$' TEAM.md || { echo 'TEAM.md lost its title' >&2; exit 1; }
if [ -e hello.sh ]; then sh hello.sh | grep -q '^hello' || { echo 'hello.sh does not greet' >&2; exit 1; }; fi
CHECK
g add -A
g commit -q -m 'Start the team notes'

# The job file, with the repository's path in place of the placeholder.
sed "s|/path/to/throwaway/repo|$repo|" "$here/workspace-team.yaml" >"$work/job.yaml"

# Submit (it prints `job ID STATUS`), then follow the job: `watch --job` exits 0 only if it
# succeeded. --since 0 replays what happened before the watch began.
submitted=$($CADRE submit "$work/job.yaml")
echo "$submitted"
job=$(echo "$submitted" | awk '{print $2}')
outcome=0
$CADRE watch --job "$job" --since 0 \
  --types node_completed,job_completed || outcome=$?

# Every worker's change, merged level by level into the job branch (main is untouched);
# shown whatever the outcome, so nothing here stops the script.
set +e
branch="cadre/$(echo "$job" | tr -d -)/job"
echo
echo "== git log --graph $branch (in $repo)"
g log --oneline --graph "$branch"
echo
echo "== TEAM.md on $branch"
g show "$branch:TEAM.md"
echo
echo "== hello.sh on $branch"
g show "$branch:hello.sh"
echo
echo "What one worker changed: $CADRE workspace diff $job intro"
echo "Remove the job's branches: $CADRE workspace remove $job"
exit "$outcome"
