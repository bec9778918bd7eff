namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>The checker on hand-made histories: each guarantee holds on a history that keeps it, and each violation is found, with the operations involved.</summary>
public sealed class HistoryCheckerTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_history_of_overlapping_appends_and_reads_that_keeps_every_guarantee_holds()
    {
        var history = new[]
        {
            Append(1, key: 1, value: 10, start: 0, end: 2),
            Append(2, key: 1, value: 11, start: 1, end: 3),
            // Overlaps both appends: may see either, both or neither, in the one order.
            Read(3, key: 1, start: 1.5, end: 2.5, 10),
            Read(4, key: 1, start: 4, end: 5, 10, 11),
            Append(5, key: 2, value: 20, start: 0, end: 1, OperationOutcome.Unknown),
            Append(6, key: 2, value: 21, start: 0, end: 1, OperationOutcome.Failed),
            Read(7, key: 2, start: 2, end: 3),
            // A stale read within its window may miss what was acknowledged since.
            Read(8, key: 1, start: 3.5, end: 4, freshness: 2, 10),
        };

        var report = HistoryChecker.Check(history, Final((1, [10, 11]), (2, [])));

        Assert.True(report.Holds, report.Describe());
        Assert.Equal(4, report.Counts.Appends);
        Assert.Equal(4, report.Counts.ReadsOk);
    }

    [Fact]
    public void An_acknowledged_append_missing_from_the_final_order_is_a_lost_write()
    {
        var report = HistoryChecker.Check([Append(1, key: 1, value: 10, start: 0, end: 1), Append(2, key: 1, value: 11, start: 0, end: 1)], Final((1, [11])));

        var violation = Assert.Single(report.Violations);
        Assert.Equal(ViolationKind.LostWrite, violation.Kind);
        Assert.Equal(1, Assert.Single(violation.Operations).Id);
    }

    [Theory]
    [InlineData(OperationOutcome.Ok)]
    [InlineData(OperationOutcome.Unknown)]
    public void An_append_stored_twice_is_a_duplicated_write_whatever_its_answer(OperationOutcome outcome)
    {
        var report = HistoryChecker.Check([Append(1, key: 1, value: 10, start: 0, end: 1, outcome)], Final((1, [10, 10])));

        Assert.Equal(ViolationKind.DuplicatedWrite, Assert.Single(report.Violations).Kind);
    }

    [Fact]
    public void An_append_answered_with_a_definite_failure_but_stored_is_reported()
    {
        var report = HistoryChecker.Check([Append(1, key: 1, value: 10, start: 0, end: 1, OperationOutcome.Failed)], Final((1, [10])));

        Assert.Equal(ViolationKind.FailedWriteStored, Assert.Single(report.Violations).Kind);
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 10 })]
    public void An_append_whose_outcome_is_unknown_may_be_stored_once_or_not_at_all(long[] stored)
    {
        var report = HistoryChecker.Check([Append(1, key: 1, value: 10, start: 0, end: 1, OperationOutcome.Unknown)], Final((1, stored)));

        Assert.True(report.Holds, report.Describe());
    }

    [Fact]
    public void A_keyed_append_retried_from_another_container_and_stored_twice_is_reported_with_every_attempt()
    {
        var history = new[]
        {
            Append(1, key: 1, value: 10, start: 0, end: 1, OperationOutcome.Unknown, idempotencyKey: "k-10", client: "c1"),
            Append(2, key: 1, value: 10, start: 1, end: 2, OperationOutcome.Ok, idempotencyKey: "k-10", client: "c2"),
        };

        var report = HistoryChecker.Check(history, Final((1, [10, 10])));

        var violation = Assert.Single(report.Violations);
        Assert.Equal(ViolationKind.KeyedRetryAppliedTwice, violation.Kind);
        Assert.Equal([1, 2], violation.Operations.Select(o => o.Id));
    }

    [Fact]
    public void A_keyed_append_retried_until_200_and_stored_once_holds()
    {
        var history = new[]
        {
            Append(1, key: 1, value: 10, start: 0, end: 1, OperationOutcome.Unknown, idempotencyKey: "k-10", client: "c1"),
            Append(2, key: 1, value: 10, start: 1, end: 2, OperationOutcome.Ok, idempotencyKey: "k-10", client: "c2"),
        };

        Assert.True(HistoryChecker.Check(history, Final((1, [10]))).Holds);
    }

    [Fact]
    public void A_stored_value_no_append_wrote_or_under_another_key_is_a_phantom()
    {
        var report = HistoryChecker.Check([Append(1, key: 1, value: 10, start: 0, end: 1, OperationOutcome.Unknown)], Final((1, [99]), (2, [10])));

        Assert.Equal([ViolationKind.Phantom, ViolationKind.Phantom], report.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void Two_reads_that_see_two_orders_are_not_both_prefixes_of_the_final_order()
    {
        var history = new[]
        {
            Append(1, key: 1, value: 10, start: 0, end: 1),
            Append(2, key: 1, value: 11, start: 0, end: 1),
            Read(3, key: 1, start: 2, end: 3, 10, 11),
            Read(4, key: 1, start: 2, end: 3, 11, 10),
        };

        var report = HistoryChecker.Check(history, Final((1, [10, 11])));

        var violation = Assert.Single(report.Violations);
        Assert.Equal(ViolationKind.NotAPrefix, violation.Kind);
        Assert.Equal(4, Assert.Single(violation.Operations).Id);
    }

    [Fact]
    public void A_read_that_began_after_an_append_was_acknowledged_and_misses_it_is_reported_with_the_append()
    {
        var history = new[]
        {
            Append(1, key: 1, value: 10, start: 0, end: 1),
            Append(2, key: 1, value: 11, start: 0, end: 2),
            Read(3, key: 1, start: 2.5, end: 3, 10),
        };

        var report = HistoryChecker.Check(history, Final((1, [10, 11])));

        var violation = Assert.Single(report.Violations);
        Assert.Equal(ViolationKind.MissedAcknowledgedWrite, violation.Kind);
        Assert.Equal([3, 2], violation.Operations.Select(o => o.Id));
    }

    [Fact]
    public void A_read_shorter_than_a_read_that_ended_before_it_began_went_back_in_time()
    {
        var history = new[]
        {
            Append(1, key: 1, value: 10, start: 0, end: 5, OperationOutcome.Unknown),
            Read(2, key: 1, start: 1, end: 2, 10),
            Read(3, key: 1, start: 3, end: 4),
        };

        var report = HistoryChecker.Check(history, Final((1, [10])));

        var violation = Assert.Single(report.Violations);
        Assert.Equal(ViolationKind.ReadWentBack, violation.Kind);
        Assert.Equal([2, 3], violation.Operations.Select(o => o.Id));
    }

    [Fact]
    public void A_stale_read_is_held_to_what_was_acknowledged_and_read_before_its_freshness_window()
    {
        var history = new[]
        {
            Append(1, key: 1, value: 10, start: 0, end: 1),
            Read(2, key: 1, start: 1.5, end: 2, 10),
            // Began 4 s after both ended; its window is 2 s, so it had to see them.
            Read(3, key: 1, start: 6, end: 6.5, freshness: 2),
        };

        var report = HistoryChecker.Check(history, Final((1, [10])));

        Assert.Equal([ViolationKind.MissedAcknowledgedWrite, ViolationKind.ReadWentBack], report.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void A_500_answer_is_a_server_error()
    {
        var failed = Append(1, key: 1, value: 10, start: 0, end: 1, OperationOutcome.Unknown) with { Status = 500 };

        var report = HistoryChecker.Check([failed], Final((1, [])));

        Assert.Equal(ViolationKind.ServerError, Assert.Single(report.Violations).Kind);
    }

    private static HistoryOperation Append(
        int id,
        int key,
        long value,
        double start,
        double end,
        OperationOutcome outcome = OperationOutcome.Ok,
        string? idempotencyKey = null,
        string client = "c1") => new()
        {
            Id = id,
            Client = client,
            Kind = OperationKind.Append,
            Key = key,
            Value = value,
            IdempotencyKey = idempotencyKey,
            Start = Second * start,
            End = Second * end,
            Outcome = outcome,
            Status = outcome switch { OperationOutcome.Ok => 200, OperationOutcome.Failed => 409, _ => 503 },
        };

    private static HistoryOperation Read(int id, int key, double start, double end, params long[] values) =>
        Read(id, key, start, end, freshness: null, values);

    private static HistoryOperation Read(int id, int key, double start, double end, double? freshness, params long[] values) => new()
    {
        Id = id,
        Client = "r",
        Kind = OperationKind.Read,
        Key = key,
        Freshness = freshness is { } seconds ? Second * seconds : null,
        Start = Second * start,
        End = Second * end,
        Outcome = OperationOutcome.Ok,
        Status = 200,
        Values = values,
    };

    private static Dictionary<int, IReadOnlyList<long>> Final(params (int Key, long[] Values)[] keys) =>
        keys.ToDictionary(k => k.Key, k => (IReadOnlyList<long>)k.Values);
}
