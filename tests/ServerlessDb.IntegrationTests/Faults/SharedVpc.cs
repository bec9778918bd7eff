using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// One moto VPC for all the fault tests of a run: creating one goes through the aws CLI, which takes
/// seconds on a busy machine. Tests keep their lock groups apart by a lock-name prefix of their own
/// (<see cref="NewLockNamePrefix"/>), so sharing the VPC shares nothing they observe.
/// </summary>
public static class SharedVpc
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly TimeSpan CreateDeadline = TimeSpan.FromSeconds(90);
    private static (Uri Moto, string VpcId)? _created;

    public static async Task<string> GetAsync(MotoServerFixture moto)
    {
        await Gate.WaitAsync(CreateDeadline);
        try
        {
            if (_created is not { } created || created.Moto != moto.EndpointUrl)
            {
                created = (moto.EndpointUrl, await moto.CreateVpcAsync().WaitAsync(CreateDeadline));
                _created = created;
            }

            return created.VpcId;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A LOCK_NAME_PREFIX no other test uses.</summary>
    public static string NewLockNamePrefix() => $"sdb-fault-{Guid.NewGuid():N}"[..18] + "-";
}
