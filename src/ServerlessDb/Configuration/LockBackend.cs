namespace ServerlessDb.Configuration;

/// <summary>How writers of one database take turns (LOCK_BACKEND).</summary>
internal enum LockBackend
{
    /// <summary>No lock: writers are coordinated by the conditional commit alone (the local server: in-process turns).</summary>
    None,

    /// <summary>An EC2 security group per held lock, in LOCK_VPC_ID.</summary>
    Ec2,

    /// <summary>A lease object per database, <c>{DB_PREFIX}_locks/{NAME}.lease</c>, in DB_BUCKET.</summary>
    S3,
}

/// <summary>Reads LOCK_BACKEND for both readers of the environment, so the QueryRunner and the reaper agree on its values.</summary>
internal static class LockBackendSetting
{
    public const string Variable = "LOCK_BACKEND";

    /// <summary>
    /// LOCK_BACKEND, or when unset <paramref name="whenUnset"/> (which the caller derives from LOCK_VPC_ID).
    /// A value other than ec2, s3 or none is reported and reads as <paramref name="whenUnset"/>.
    /// </summary>
    public static LockBackend Read(EnvironmentReader read, LockBackend whenUnset)
    {
        var raw = read.Optional(Variable);
        switch (raw?.ToLowerInvariant())
        {
            case null:
                return whenUnset;
            case "ec2":
                return LockBackend.Ec2;
            case "s3":
                return LockBackend.S3;
            case "none":
                return LockBackend.None;
            default:
                read.Check(false, $"{Variable} must be ec2, s3 or none; got '{raw}'.");
                return whenUnset;
        }
    }

    public static string Name(LockBackend backend) => backend.ToString().ToLowerInvariant();
}
