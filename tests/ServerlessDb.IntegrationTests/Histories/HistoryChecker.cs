namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>
/// Checks a list-append history (Elle's workload, checked the direct way its unique values allow) against
/// the final state of every key: what each append's answer promised about it, that all reads agree on one
/// order, and that a read sees every write acknowledged before it began and never goes back behind a read
/// that ended before it began. A read with <c>level=none&amp;freshness=W</c> is held to the same, as of W
/// before it began: it may serve a copy validated within W, and a copy is validated at the start of the
/// request that fetched it, so it holds every write acknowledged before then.
/// </summary>
public static class HistoryChecker
{
    private const int MissingShown = 3;

    /// <param name="final">each key's list as stored after the run, in commit order (read at the default level once every operation ended).</param>
    public static HistoryReport Check(IReadOnlyList<HistoryOperation> operations, IReadOnlyDictionary<int, IReadOnlyList<long>> final)
    {
        var violations = new List<HistoryViolation>();
        var positions = Positions(final);
        var appends = operations.Where(o => o.Kind == OperationKind.Append).ToList();
        var reads = operations.Where(o => o is { Kind: OperationKind.Read, Outcome: OperationOutcome.Ok, Values: not null }).ToList();

        violations.AddRange(operations
            .Where(o => o.Status == 500)
            .Select(o => new HistoryViolation(ViolationKind.ServerError, "answered 500, which only a bug answers", [o])));
        CheckAppends(appends, positions, violations);
        CheckPrefixes(reads, final, violations);
        CheckRealTime(appends, reads, positions, violations);
        return new HistoryReport(violations, HistoryCounts.Of(operations, final));
    }

    /// <summary>Where each stored value is: every (key, index) it appears at.</summary>
    private static Dictionary<long, List<(int Key, int Index)>> Positions(IReadOnlyDictionary<int, IReadOnlyList<long>> final)
    {
        var positions = new Dictionary<long, List<(int, int)>>();
        foreach (var (key, list) in final)
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (!positions.TryGetValue(list[i], out var at))
                {
                    positions[list[i]] = at = [];
                }

                at.Add((key, i));
            }
        }

        return positions;
    }

    /// <summary>
    /// Each value is one logical append, sent once or retried (with the same Idempotency-Key): applied once
    /// if any attempt answered 200, at most once if any answer left it unknown, never if all failed for sure.
    /// </summary>
    private static void CheckAppends(
        List<HistoryOperation> appends,
        Dictionary<long, List<(int Key, int Index)>> positions,
        List<HistoryViolation> violations)
    {
        foreach (var attempts in appends.GroupBy(a => a.Value))
        {
            var tries = attempts.ToList();
            var key = tries[0].Key;
            var stored = positions.TryGetValue(attempts.Key, out var at) ? at : [];
            var misplaced = stored.Where(p => p.Key != key).ToList();
            if (misplaced.Count > 0)
            {
                violations.Add(new HistoryViolation(ViolationKind.Phantom,
                    $"value {attempts.Key}, appended to k{key}, is stored under {string.Join(", ", misplaced.Select(p => $"k{p.Key} at {p.Index}"))}", tries));
            }

            var count = stored.Count(p => p.Key == key);
            var where = count == 0 ? "absent" : $"stored {count} times (at {string.Join(", ", stored.Where(p => p.Key == key).Select(p => p.Index))})";
            var keyed = tries.Count > 1 && tries.All(t => t.IdempotencyKey is not null) && tries.Select(t => t.IdempotencyKey).Distinct().Count() == 1;
            if (count > 1)
            {
                violations.Add(keyed
                    ? new HistoryViolation(ViolationKind.KeyedRetryAppliedTwice, $"value {attempts.Key}, sent {tries.Count} times with one Idempotency-Key, is {where}", tries)
                    : new HistoryViolation(ViolationKind.DuplicatedWrite, $"value {attempts.Key} is {where}", tries));
            }
            else if (count == 0 && tries.Any(t => t.Outcome == OperationOutcome.Ok))
            {
                violations.Add(new HistoryViolation(ViolationKind.LostWrite, $"value {attempts.Key} was acknowledged but is {where} from k{key}", tries));
            }
            else if (count == 1 && tries.All(t => t.Outcome == OperationOutcome.Failed))
            {
                violations.Add(new HistoryViolation(ViolationKind.FailedWriteStored, $"value {attempts.Key} was answered as not applied but is {where} in k{key}", tries));
            }
        }

        var appended = appends.Select(a => a.Value).ToHashSet();
        foreach (var (value, at) in positions.Where(p => !appended.Contains(p.Key)))
        {
            violations.Add(new HistoryViolation(ViolationKind.Phantom,
                $"value {value} is stored ({string.Join(", ", at.Select(p => $"k{p.Key} at {p.Index}"))}) but no append wrote it", []));
        }
    }

    private static void CheckPrefixes(List<HistoryOperation> reads, IReadOnlyDictionary<int, IReadOnlyList<long>> final, List<HistoryViolation> violations)
    {
        foreach (var read in reads)
        {
            var order = final.TryGetValue(read.Key, out var list) ? list : [];
            var values = read.Values!;
            var same = 0;
            while (same < values.Count && same < order.Count && values[same] == order[same])
            {
                same++;
            }

            if (same < values.Count)
            {
                var finalAt = same < order.Count ? order[same].ToString(System.Globalization.CultureInfo.InvariantCulture) : "nothing (the final list is shorter)";
                violations.Add(new HistoryViolation(ViolationKind.NotAPrefix,
                    $"the read's list differs from k{read.Key}'s final order at index {same}: it has {values[same]} where the final order has {finalAt}", [read]));
            }
        }
    }

    private static void CheckRealTime(
        List<HistoryOperation> appends,
        List<HistoryOperation> reads,
        Dictionary<long, List<(int Key, int Index)>> positions,
        List<HistoryViolation> violations)
    {
        foreach (var key in reads.Select(r => r.Key).Distinct())
        {
            // Each acknowledged append of this key, by the end of its first 200, with its place in the final order.
            var acknowledged = appends
                .Where(a => a.Key == key && a.Outcome == OperationOutcome.Ok)
                .GroupBy(a => a.Value)
                .Select(g => (Append: g.MinBy(a => a.End)!, Index: positions.TryGetValue(g.Key, out var at) ? at.Where(p => p.Key == key).Select(p => p.Index).DefaultIfEmpty(-1).Min() : -1))
                .Where(a => a.Index >= 0)
                .OrderBy(a => a.Append.End)
                .ToList();
            var ofKey = reads.Where(r => r.Key == key).OrderBy(r => r.End).ToList();
            var longestBefore = Longest(ofKey);
            var furthestBefore = Furthest(acknowledged);
            foreach (var read in ofKey)
            {
                var since = read.Freshness is { } window ? read.Start - window : read.Start;
                var seen = read.Values!.Count;

                var lastAcknowledged = LastEndingBefore(acknowledged, a => a.Append.End, since);
                if (lastAcknowledged >= 0 && furthestBefore[lastAcknowledged].Index >= seen)
                {
                    var missed = acknowledged.Take(lastAcknowledged + 1).Where(a => a.Index >= seen).OrderBy(a => a.Index).Take(MissingShown).ToList();
                    violations.Add(new HistoryViolation(ViolationKind.MissedAcknowledgedWrite,
                        $"the read of k{key} began{Window(read)} after the append of {string.Join(", ", missed.Select(m => m.Append.Value))} was acknowledged, " +
                        $"but returned {seen} values, not the {furthestBefore[lastAcknowledged].Index + 1} or more that include it",
                        [read, .. missed.Select(m => m.Append)]));
                }

                var lastRead = LastEndingBefore(ofKey, r => r.End, since);
                if (lastRead >= 0 && longestBefore[lastRead].Values!.Count > seen)
                {
                    var earlier = longestBefore[lastRead];
                    violations.Add(new HistoryViolation(ViolationKind.ReadWentBack,
                        $"the read of k{key} began{Window(read)} after a read that returned {earlier.Values!.Count} values ended, but returned {seen}",
                        [earlier, read]));
                }
            }
        }
    }

    private static string Window(HistoryOperation read) =>
        read.Freshness is { } window ? $" more than its freshness window ({window.TotalSeconds:0.###}s)" : "";

    /// <summary>For each read (in the order of their ends), the longest read among it and those ending before it.</summary>
    private static List<HistoryOperation> Longest(List<HistoryOperation> readsByEnd)
    {
        var longest = new List<HistoryOperation>(readsByEnd.Count);
        foreach (var read in readsByEnd)
        {
            longest.Add(longest.Count > 0 && longest[^1].Values!.Count >= read.Values!.Count ? longest[^1] : read);
        }

        return longest;
    }

    /// <summary>For each acknowledged append (in the order of their ends), the one furthest in the final order among it and those ending before it.</summary>
    private static List<(HistoryOperation Append, int Index)> Furthest(List<(HistoryOperation Append, int Index)> byEnd)
    {
        var furthest = new List<(HistoryOperation, int)>(byEnd.Count);
        foreach (var append in byEnd)
        {
            furthest.Add(furthest.Count > 0 && furthest[^1].Item2 >= append.Index ? furthest[^1] : append);
        }

        return furthest;
    }

    /// <summary>The index of the last item (sorted by end) that ended strictly before <paramref name="time"/>, or -1.</summary>
    private static int LastEndingBefore<T>(List<T> byEnd, Func<T, TimeSpan> end, TimeSpan time)
    {
        int low = 0, high = byEnd.Count - 1, found = -1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            if (end(byEnd[middle]) < time)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found;
    }
}
