#!/usr/bin/env bash
# Cold start of two builds of the local server in S3 mode with the security-group lock, interleaved
# round by round against one moto_server, so that a busy machine slows both alike:
#   process start -> first read answered (composition, S3 client, one GET) -> first write answered
#   (first EC2 CreateSecurityGroup and DeleteSecurityGroup, first conditional PUT).
#
#   bench/cold-start.sh PUBLISH_DIR_A PUBLISH_DIR_B [ROUNDS]
#
# Each PUBLISH_DIR holds a `dotnet publish src/LocalServer -c Release -r linux-x64 --self-contained false
# -p:PublishReadyToRun=true` output, as the Lambda package is built. Prints the median of each build.
set -euo pipefail

a=${1:?publish dir A}
b=${2:?publish dir B}
rounds=${3:-10}
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

moto_port=$(free_port)
python3 "$(dirname "$0")/../tools/atomic_moto_server.py" -H 127.0.0.1 -p "$moto_port" >/dev/null 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
moto="http://127.0.0.1:$moto_port"
for _ in $(seq 1 300); do curl -s -o /dev/null "$moto" && break; sleep 0.1; done
aws --endpoint-url "$moto" s3 mb s3://cold-start >/dev/null
vpc=$(aws --endpoint-url "$moto" ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)

# One cold start: prints "READ_MS WRITE_MS".
measure() {
    local dir=$1 port cache start pid read_ms write_ms
    port=$(free_port)
    cache=$(mktemp -d)
    start=$(now_ms)
    LOCK_VPC_ID=$vpc CACHE_DIR=$cache dotnet "$dir/LocalServer.dll" --port "$port" --s3-endpoint "$moto" --bucket cold-start >/dev/null 2>&1 &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/db/query?db=cold&q=SELECT%201"; do
        kill -0 "$pid" 2>/dev/null || { echo "the local server in $dir exited" >&2; exit 1; }
        sleep 0.005
    done
    read_ms=$(( $(now_ms) - start ))
    curl -sf -o /dev/null -XPOST "http://127.0.0.1:$port/db/execute?db=cold" -H 'Content-Type: application/json' \
        -d '["CREATE TABLE IF NOT EXISTS t(a)", "INSERT INTO t VALUES (1)"]'
    write_ms=$(( $(now_ms) - start - read_ms ))
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$cache"
    echo "$read_ms $write_ms"
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -a a_read a_write b_read b_write
for round in $(seq 1 "$rounds"); do
    read -r r w < <(measure "$a"); a_read+=("$r"); a_write+=("$w")
    read -r r w < <(measure "$b"); b_read+=("$r"); b_write+=("$w")
    echo "round $round: A ${a_read[-1]} + ${a_write[-1]} ms, B ${b_read[-1]} + ${b_write[-1]} ms" >&2
done

echo "| build | cold start to first read (median) | first write after it (median) |"
echo "| --- | ---: | ---: |"
echo "| A: $a | $(printf '%s\n' "${a_read[@]}" | median) ms | $(printf '%s\n' "${a_write[@]}" | median) ms |"
echo "| B: $b | $(printf '%s\n' "${b_read[@]}" | median) ms | $(printf '%s\n' "${b_write[@]}" | median) ms |"
