# workers.sh - sourced by the suites that check many files one by one
# (tests/reader.sh, tests/keylog.sh, fuzz/smoke.sh): the files are shared
# out among JOBS workers, which run at once.
#
#   workers_run JOBS DIR "VAR..." FN ITEM...
#
# Worker W (0 <= W < JOBS) runs "FN ITEM" for items W, W+JOBS, W+2*JOBS...
# in a subshell, with WORKER=W and each VAR (the suite's counters, such as
# pass and fail) starting at 0; what it prints goes to DIR/wW.log. When all
# have ended, their logs are printed in turn (worker 0's lines, then 1's...)
# and each VAR of the caller gets the workers' values added. Returns 1 when
# a worker ended without its counts (the caller counts that as a failure).
# workers_jobs NAME: the value of the environment variable NAME when it is
# a positive number, else the number of CPUs.

workers_jobs() {
	local n=${!1:-}
	case $n in '' | *[!0-9]* | 0*) n=$(nproc 2>/dev/null || echo 1) ;; esac
	echo "$n"
}

workers_run() {
	local _jobs=$1 _dir=$2 _vars=$3 _fn=$4 _w _i _v _rc=0 _pids=() _vals
	shift 4
	local _items=("$@")
	mkdir -p "$_dir"
	for ((_w = 0; _w < _jobs; _w++)); do
		rm -f "$_dir/w$_w.counts"   # a run stopped midway must not lend its counts
		(
			WORKER=$_w
			for _v in $_vars; do printf -v "$_v" 0; done
			for ((_i = _w; _i < ${#_items[@]}; _i += _jobs)); do
				"$_fn" "${_items[_i]}"
			done
			for _v in $_vars; do printf '%s ' "${!_v}"; done > "$_dir/w$_w.counts"
			echo >> "$_dir/w$_w.counts"
		) > "$_dir/w$_w.log" 2>&1 &
		_pids+=($!)
	done
	for ((_w = 0; _w < _jobs; _w++)); do
		wait "${_pids[_w]}"
		cat "$_dir/w$_w.log"
		if [ -f "$_dir/w$_w.counts" ] && read -r -a _vals < "$_dir/w$_w.counts"; then
			_i=0
			for _v in $_vars; do
				printf -v "$_v" '%s' "$((${!_v} + ${_vals[_i]:-0}))"
				_i=$((_i + 1))
			done
		else
			echo "FAIL worker $_w ended without its counts"
			_rc=1
		fi
		rm -f "$_dir/w$_w.counts" "$_dir/w$_w.log"
	done
	rmdir "$_dir" 2>/dev/null
	return $_rc
}
