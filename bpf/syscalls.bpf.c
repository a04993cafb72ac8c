/* syscalltop: exact per-syscall and per-process counters on raw_syscalls:sys_enter/sys_exit.
 *
 * Options arrive as -D flags from tui/sources/bcc_source.py (filters, sampling, the
 * never-erring sigreturn ids). Kernel structs are never read: only BPF helpers, the
 * tracepoint arguments and the user register frame (the ptrace ABI, stable by contract).
 */
#include "syscalls.h"

#ifndef SAMPLE_EVERY
#define SAMPLE_EVERY 0
#endif
#ifndef NR_RT_SIGRETURN
#define NR_RT_SIGRETURN -1
#endif
#ifndef COMPAT_NR_SIGRETURN
#define COMPAT_NR_SIGRETURN -1
#endif
#ifndef COMPAT_NR_RT_SIGRETURN
#define COMPAT_NR_RT_SIGRETURN -1
#endif
#ifndef NR_EXIT
#define NR_EXIT -1
#define NR_EXIT_GROUP -1
#define COMPAT_NR_EXIT -1
#define COMPAT_NR_EXIT_GROUP -1
#endif
#ifndef NR_EXECVE
#define NR_EXECVE -1
#define NR_EXECVEAT -1
#define COMPAT_NR_EXECVE -1
#define COMPAT_NR_EXECVEAT -1
#endif

BPF_PERCPU_ARRAY(syscall_stats, struct syscall_stats, SLOT_COUNT);
BPF_PERCPU_ARRAY(loss_counts, u64, LOSS_SLOTS);
/* Allocated on first use: sized for process churn (each short-lived process leaves ~30
 * entries until reclaimed) without holding 20 MB of kernel memory up front. */
BPF_F_TABLE("hash", struct proc_key, struct proc_stats, proc_stats, PROC_MAP_ENTRIES,
            BPF_F_NO_PREALLOC);
BPF_HASH(errno_counts, struct errno_key, u64, ERRNO_MAP_ENTRIES);
BPF_PERCPU_ARRAY(cpu_states, struct cpu_state, 1);
BPF_HASH(inflight, u32, struct enter_state, INFLIGHT_ENTRIES);
/* Never written: the all-zero value a new per-process entry starts from (too big for the stack). */
BPF_ARRAY(zero_proc_stats, struct proc_stats, 1);
#if SAMPLE_EVERY > 0
BPF_PERCPU_ARRAY(sample_scratch, struct sample_event, 1);
BPF_PERF_OUTPUT(samples);
#endif

/* Offsets in the x86_64 user register frame (struct pt_regs == user_regs_struct order). */
#define REGS_WORDS 21
#define REG_BP 4
#define REG_BX 5
#define REG_R10 7
#define REG_R9 8
#define REG_R8 9
#define REG_CX 11
#define REG_DX 12
#define REG_SI 13
#define REG_DI 14
#define REG_ORIG_AX 15
#define REG_CS 17
/* __USER32_CS: the code segment of a task running 32-bit code. */
#define USER32_CS 0x23

static __always_inline void count_loss(u32 index)
{
    u64 *loss = loss_counts.lookup(&index);
    if (loss)
        (*loss)++;
}

static __always_inline u32 is_compat_task(u64 regs_addr)
{
#if defined(__x86_64__) && defined(TRACK_COMPAT)
    u64 cs = 0;
    bpf_probe_read_kernel(&cs, sizeof(cs), (void *)(regs_addr + REG_CS * 8));
    return (cs & 0xffff) == USER32_CS;
#else
    return 0;
#endif
}

static __always_inline u32 slot_of(s64 nr, u32 compat)
{
    if (nr < 0 || nr >= SLOTS_PER_ABI)
        return INVALID_SLOT;
    return compat ? COMPAT_SLOT_BASE + (u32)nr : (u32)nr;
}

/* Filters known at entry and at exit alike, so paired and unpaired calls agree. */
static __always_inline int passes_filter(u64 pid_tgid, u32 slot)
{
#ifdef FILTER_TGID_EXPR
    u32 tgid = pid_tgid >> 32;
    if (!(FILTER_TGID_EXPR))
        return 0;
#endif
#ifdef FILTER_TID_EXPR
    u32 tid = (u32)pid_tgid;
    if (!(FILTER_TID_EXPR))
        return 0;
#endif
#ifdef FILTER_SLOT_EXPR
    if (!(FILTER_SLOT_EXPR))
        return 0;
#endif
#ifdef FILTER_UID
    if ((u32)bpf_get_current_uid_gid() != FILTER_UID)
        return 0;
#endif
#ifdef FILTER_CGROUP_ID
    if (bpf_get_current_ancestor_cgroup_id(FILTER_CGROUP_LEVEL) != FILTER_CGROUP_ID)
        return 0;
#endif
#ifdef FILTER_COMM_LO
    u64 comm_words[2] = {};
    bpf_get_current_comm(comm_words, sizeof(comm_words));
    if (comm_words[0] != FILTER_COMM_LO || comm_words[1] != FILTER_COMM_HI)
        return 0;
#endif
    return 1;
}

static __always_inline u32 log2_bucket(u64 value)
{
    u32 bucket = 0;
    if (value >> 32) { value >>= 32; bucket += 32; }
    if (value >> 16) { value >>= 16; bucket += 16; }
    if (value >> 8) { value >>= 8; bucket += 8; }
    if (value >> 4) { value >>= 4; bucket += 4; }
    if (value >> 2) { value >>= 2; bucket += 2; }
    if (value >> 1) { bucket += 1; }
    return bucket < HIST_BUCKETS ? bucket : HIST_BUCKETS - 1;
}

static __always_inline int never_errs(u32 slot)
{
    /* sigreturn "returns" the interrupted context's rax, often -EINTR: not its own error. */
    return slot == NR_RT_SIGRETURN || slot == COMPAT_SLOT_BASE + COMPAT_NR_SIGRETURN ||
           slot == COMPAT_SLOT_BASE + COMPAT_NR_RT_SIGRETURN;
}

static __always_inline int never_returns(u32 slot)
{
    return slot == NR_EXIT || slot == NR_EXIT_GROUP || slot == COMPAT_SLOT_BASE + COMPAT_NR_EXIT ||
           slot == COMPAT_SLOT_BASE + COMPAT_NR_EXIT_GROUP;
}

static __always_inline int is_exec(u32 slot)
{
    return slot == NR_EXECVE || slot == NR_EXECVEAT || slot == COMPAT_SLOT_BASE + COMPAT_NR_EXECVE ||
           slot == COMPAT_SLOT_BASE + COMPAT_NR_EXECVEAT;
}

static __always_inline void count_errno(u32 slot, u32 errno_value)
{
    struct errno_key key = {.slot = slot, .errno_value = errno_value};
    u64 *count = errno_counts.lookup(&key);
    if (count) {
        __sync_fetch_and_add(count, 1);
        return;
    }
    u64 one = 1;
    if (errno_counts.insert(&key, &one) != 0) {
        /* Lost the race to another CPU inserting the same key, or the map is full. */
        count = errno_counts.lookup(&key);
        if (count)
            __sync_fetch_and_add(count, 1);
        else
            count_loss(LOSS_ERRNO_MAP_FULL);
    }
}

static __always_inline void count_process(u32 tgid, u32 slot, int failed, int timed,
                                          u64 duration_ns, u32 bucket)
{
    struct proc_key key = {.tgid = tgid, .slot = slot};
    struct proc_stats *stats = proc_stats.lookup(&key);
    if (!stats) {
        u32 zero = 0;
        struct proc_stats *fresh = zero_proc_stats.lookup(&zero);
        if (!fresh)
            return;
        proc_stats.insert(&key, fresh);
        stats = proc_stats.lookup(&key);
        if (!stats) {
            count_loss(LOSS_PROC_MAP_FULL);
            return;
        }
        /* Racing CPUs of one process write the same values here. */
        stats->uid = (u32)bpf_get_current_uid_gid();
        bpf_get_current_comm(stats->comm, sizeof(stats->comm));
    }
    __sync_fetch_and_add(&stats->count, 1);
    if (failed)
        __sync_fetch_and_add(&stats->errors, 1);
    if (timed) {
        __sync_fetch_and_add(&stats->latency_sum_ns, duration_ns);
        __sync_fetch_and_add(&stats->latency_hist[bucket], 1);
        if (duration_ns > stats->latency_max_ns)
            stats->latency_max_ns = duration_ns;
    }
}

#if SAMPLE_EVERY > 0
static __always_inline void send_sample(struct bpf_raw_tracepoint_args *ctx, u32 tgid,
                                         u32 slot, s64 ret, int timed, u64 now_ns,
                                         u64 duration_ns)
{
    u32 zero = 0;
    struct sample_event *event = sample_scratch.lookup(&zero);
    if (!event)
        return;
    u64 regs[REGS_WORDS] = {};
    bpf_probe_read_kernel(regs, sizeof(regs), (void *)ctx->args[0]);
    if (slot >= COMPAT_SLOT_BASE && slot < INVALID_SLOT) {
        event->args[0] = regs[REG_BX];
        event->args[1] = regs[REG_CX];
        event->args[2] = regs[REG_DX];
        event->args[3] = regs[REG_SI];
        event->args[4] = regs[REG_DI];
        event->args[5] = regs[REG_BP];
    } else {
        event->args[0] = regs[REG_DI];
        event->args[1] = regs[REG_SI];
        event->args[2] = regs[REG_DX];
        event->args[3] = regs[REG_R10];
        event->args[4] = regs[REG_R8];
        event->args[5] = regs[REG_R9];
    }
    event->exit_ns = now_ns;
    event->duration_ns = duration_ns;
    event->cgroup_id = bpf_get_current_cgroup_id();
    event->ret = ret;
    event->tgid = tgid;
    event->tid = (u32)bpf_get_current_pid_tgid();
    event->uid = (u32)bpf_get_current_uid_gid();
    event->cpu = bpf_get_smp_processor_id();
    event->slot = slot;
    event->timed = timed;
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    samples.perf_submit(ctx, event, sizeof(*event));
}
#endif

static __always_inline void account(struct bpf_raw_tracepoint_args *ctx, u32 tgid,
                                    u32 slot, s64 ret, int timed, u64 now_ns,
                                    u64 duration_ns)
{
    int failed = ret < 0 && ret >= -MAX_ERRNO_VALUE && !never_errs(slot);
#ifdef FAILURES_ONLY
    if (!failed)
        return;
#endif
#ifdef FILTER_ERRNO
    if (!failed || -ret != FILTER_ERRNO)
        return;
#endif
    u32 bucket = timed ? log2_bucket(duration_ns) : 0;
    struct syscall_stats *stats = syscall_stats.lookup(&slot);
    if (!stats)
        return;
    stats->count++;
    if (failed)
        stats->errors++;
    if (timed) {
        stats->latency_sum_ns += duration_ns;
        stats->latency_hist[bucket]++;
        if (duration_ns > stats->latency_max_ns)
            stats->latency_max_ns = duration_ns;
    }
    if (failed)
        count_errno(slot, (u32)(-ret));
    count_process(tgid, slot, failed, timed, duration_ns, bucket);
#if SAMPLE_EVERY > 0
    if (++stats->since_sample >= SAMPLE_EVERY) {
        stats->since_sample = 0;
        send_sample(ctx, tgid, slot, ret, timed, now_ns, duration_ns);
    }
#endif
}

RAW_TRACEPOINT_PROBE(sys_enter)
{
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (!cpu)
        return 0;
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 tid = (u32)pid_tgid;
    if (cpu->abi_tid != tid || !cpu->abi_flags) {
        cpu->abi_tid = tid;
        cpu->abi_flags = STATE_ABI_KNOWN | (is_compat_task(ctx->args[0]) ? STATE_COMPAT : 0);
    }
    u32 slot = slot_of((s64)ctx->args[1], cpu->abi_flags & STATE_COMPAT);
    cpu->tid = tid;
    cpu->tgid = pid_tgid >> 32;
    cpu->slot = slot;
    if (!passes_filter(pid_tgid, slot)) {
        cpu->flags = STATE_ENTERED;
        return 0;
    }
    if (never_returns(slot)) {
        /* exit and exit_group have no sys_exit: count them here, untimed, and keep no state. */
        cpu->flags = 0;
        account(ctx, cpu->tgid, slot, 0, 0, 0, 0);
        return 0;
    }
    cpu->flags = STATE_ENTERED | STATE_TRACKED;
    cpu->enter_ns = bpf_ktime_get_ns();
    return 0;
}

/* A thread leaving the CPU inside a tracked syscall parks its entry state in `inflight`. */
RAW_TRACEPOINT_PROBE(sched_switch)
{
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (!cpu || !(cpu->flags & STATE_ENTERED))
        return 0;
    u32 flags = cpu->flags;
    cpu->flags = 0;
    u32 tid = cpu->tid;
    if (tid != (u32)bpf_get_current_pid_tgid()) {
        count_loss(LOSS_STALE_CPU_STATE);
        return 0;
    }
    if (!(flags & STATE_TRACKED))
        return 0; /* its exit finds no state and is filtered out again there */
    struct enter_state state = {
        .enter_ns = cpu->enter_ns, .tgid = cpu->tgid, .slot = cpu->slot, .flags = flags};
    if (inflight.update(&tid, &state) != 0)
        count_loss(LOSS_INFLIGHT_MAP_FULL);
    return 0;
}

static __always_inline void finish_call(struct bpf_raw_tracepoint_args *ctx,
                                        struct cpu_state *cpu, u32 tid, u32 flags, u32 tgid,
                                        u32 slot, s64 ret, u64 now_ns, u64 enter_ns)
{
    /* exec may switch the ABI, so the next entry reads it afresh. */
    if (is_exec(slot) && cpu->abi_tid == tid)
        cpu->abi_flags = 0;
    if (flags & STATE_TRACKED)
        account(ctx, tgid, slot, ret, 1, now_ns, now_ns - enter_ns);
}

RAW_TRACEPOINT_PROBE(sys_exit)
{
    u64 now_ns = bpf_ktime_get_ns();
    s64 ret = (s64)ctx->args[1];
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (!cpu)
        return 0;
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 tid = (u32)pid_tgid;
    if ((cpu->flags & STATE_ENTERED) && cpu->tid == tid) {
        u32 flags = cpu->flags;
        cpu->flags = 0;
        finish_call(ctx, cpu, tid, flags, cpu->tgid, cpu->slot, ret, now_ns, cpu->enter_ns);
        return 0;
    }
    /* The call slept or was preempted: its state went to `inflight` at the switch. */
    struct enter_state *parked = inflight.lookup(&tid);
    if (parked) {
        struct enter_state state = *parked;
        inflight.delete(&tid);
        finish_call(ctx, cpu, tid, state.flags, state.tgid, state.slot, ret, now_ns,
                    state.enter_ns);
        return 0;
    }
    /* No entry seen: a call rejected before sys_enter (seccomp, ptrace) or one that was
     * already running when we attached. Count it untimed under the id in orig_ax. */
    s64 nr = -1;
    bpf_probe_read_kernel(&nr, sizeof(nr), (void *)(ctx->args[0] + REG_ORIG_AX * 8));
    u32 slot = slot_of(nr, is_compat_task(ctx->args[0]));
    if (!passes_filter(pid_tgid, slot))
        return 0;
    count_loss(LOSS_UNTIMED_EXITS);
    account(ctx, pid_tgid >> 32, slot, ret, 0, now_ns, 0);
    return 0;
}
