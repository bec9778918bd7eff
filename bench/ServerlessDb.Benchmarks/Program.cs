using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- lock-throughput [--seconds 30] (see docs/benchmarks.md)
// dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- vfs-scan [--mb 1024] [--rounds 3] (the lazy VFS's CPU per byte)
// dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- interior-pages [--sizes-mb 1024,10240] [--reads 20] (issue 19: publish interior pages?)
if (args is ["interior-pages", ..])
{
    return await ServerlessDb.Benchmarks.InteriorPages.InteriorPagesRun.RunAsync(args[1..]);
}

if (args is ["vfs-scan", ..])
{
    return ServerlessDb.Benchmarks.VfsScan.VfsScanRun.Run(args[1..]);
}

if (args is ["lock-throughput", ..])
{
    return await ServerlessDb.Benchmarks.LockThroughput.LockThroughputRun.MainAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
