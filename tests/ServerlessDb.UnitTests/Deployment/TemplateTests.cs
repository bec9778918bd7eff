using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Moq;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Logging;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Deployment;

/// <summary>
/// template.yaml against the code it deploys: each Handler resolves to a real entry point, each function
/// gets the variables its code requires, the timeouts keep the reaper from breaking a live lock, and the
/// sample events under events/ are events the handler understands. The YAML is read with python3 and
/// PyYAML (cfn-lint's own dependency), so a machine that can lint the template can run these tests.
/// </summary>
public sealed partial class TemplateTests
{
    private const string ServerlessFunction = "AWS::Serverless::Function";

    // Converts the template to JSON. CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, ...) become their
    // long forms ({"Ref": ...}, {"Fn::Sub": ...}) whatever the node kind, so no tag can make the parse fail.
    private const string YamlToJson = """
        import json, sys
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def intrinsic(loader, suffix, node):
            if isinstance(node, yaml.ScalarNode):
                value = loader.construct_scalar(node)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            if suffix in ("Ref", "Condition"):
                return {suffix: value}
            if suffix == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
            return {"Fn::" + suffix: value}

        Loader.add_multi_constructor("!", intrinsic)
        with open(sys.argv[1], encoding="utf-8") as f:
            document = yaml.load(f, Loader=Loader)
        json.dump(document, sys.stdout, default=str)
        """;

    private static readonly Lazy<JsonObject> LoadedTemplate = new(() => LoadTemplate(RepositoryRoot.PathOf("template.yaml")));

    private static JsonObject Template => LoadedTemplate.Value;

    public static TheoryData<string> FunctionNames() => ["QueryRunner", "LockReaper"];

    [Fact]
    public void Template_deploys_exactly_the_QueryRunner_and_the_LockReaper()
    {
        var functions = Template["Resources"]!.AsObject()
            .Where(r => (string?)r.Value!["Type"] == ServerlessFunction)
            .Select(r => r.Key)
            .Order(StringComparer.Ordinal);

        Assert.Equal(["LockReaper", "QueryRunner"], functions);
    }

    [Theory]
    [MemberData(nameof(FunctionNames))]
    public void Handler_resolves_to_a_public_stream_entry_point_in_the_assembly_its_CodeUri_builds(string function)
    {
        var properties = FunctionProperties(function);
        var handler = (string?)properties["Handler"] ?? throw Fail($"{function} has no Handler.");
        var parts = handler.Split("::");
        Assert.True(parts.Length == 3, $"{function}'s Handler '{handler}' is not Assembly::Namespace.Type::Method.");
        var (assemblyName, typeName, methodName) = (parts[0], parts[1], parts[2]);

        // SAM builds CodeUri's project; the Handler's assembly must be the one that project produces.
        var codeUri = (string?)properties["CodeUri"] ?? throw Fail($"{function} has no CodeUri.");
        Assert.Equal(assemblyName, ProjectAssemblyName(RepositoryRoot.PathOf(codeUri)));

        var assembly = Assembly.Load(new AssemblyName(assemblyName));
        var type = assembly.GetType(typeName, throwOnError: false)
            ?? throw Fail($"{function}: type '{typeName}' is not in {assemblyName}.dll.");
        Assert.True(type.IsPublic && type.IsClass && !type.IsAbstract, $"{typeName} must be a public, non-abstract class.");
        Assert.True(type.GetConstructor(Type.EmptyTypes) is { IsPublic: true },
            $"{typeName} needs a public parameterless constructor: the Lambda runtime creates it with one.");

        var method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.Instance, [typeof(Stream)])
            ?? throw Fail($"{function}: {typeName} has no public instance method {methodName}(Stream).");
        Assert.True(method.ReturnType == typeof(Stream) || method.ReturnType == typeof(Task<Stream>),
            $"{typeName}.{methodName} returns {method.ReturnType}; the runtime needs Stream or Task<Stream> (no serializer is configured).");
    }

    [Fact]
    public void QueryRunner_required_variables_are_exactly_those_its_options_refuse_to_start_without()
    {
        var missing = Assert.Throws<OptionsException>(
            () => ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(new Dictionary<string, string?>())));
        foreach (var name in ServerlessDbOptions.RequiredVariables)
        {
            Assert.Contains(missing.Problems, p => p.StartsWith(name + " ", StringComparison.Ordinal));
        }

        Assert.Equal(ServerlessDbOptions.RequiredVariables.Count, missing.Problems.Count);

        // With only the required variables set (to valid values), the options load.
        var onlyRequired = ServerlessDbOptions.RequiredVariables.ToDictionary(n => n, _ => (string?)"serverlessdb-test");
        Assert.NotNull(ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(onlyRequired)));
    }

    [Fact]
    public void QueryRunner_gets_every_variable_its_code_requires_and_the_lock_vpc()
    {
        // LOCK_VPC_ID is optional in the code (no lock, conditional commits alone), but this template deploys the lock.
        AssertSetsVariables("QueryRunner", [.. ServerlessDbOptions.RequiredVariables, "LOCK_VPC_ID"]);
    }

    [Fact]
    public void LockReaper_required_variables_are_those_its_options_refuse_to_start_without()
    {
        var missing = Assert.Throws<OptionsException>(() => ReaperOptions.FromEnvironment(
            new DictionaryEnvironment(new Dictionary<string, string?> { ["AWS_REGION"] = "us-east-1" })));
        foreach (var name in ReaperOptions.RequiredVariables)
        {
            Assert.Contains(missing.Problems, p => p.StartsWith(name + " ", StringComparison.Ordinal));
        }

        var onlyRequired = new Dictionary<string, string?> { ["AWS_REGION"] = "us-east-1", ["LOCK_VPC_ID"] = "vpc-1", ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30" };
        Assert.Equal(ReaperOptions.RequiredVariables.Order(), onlyRequired.Keys.Where(k => k != "AWS_REGION").Order());
        Assert.NotNull(ReaperOptions.FromEnvironment(new DictionaryEnvironment(onlyRequired)));
    }

    [Fact]
    public void LockReaper_gets_every_variable_its_code_requires() =>
        AssertSetsVariables("LockReaper", ReaperOptions.RequiredVariables);

    [Theory]
    [MemberData(nameof(FunctionNames))]
    public void Runtime_is_dotnet10(string function) =>
        Assert.Equal("dotnet10", (string?)FunctionProperties(function)["Runtime"]);

    [Fact]
    public void QueryRunner_timeout_lies_between_its_request_deadline_and_the_stale_lock_threshold()
    {
        var timeout = Number(FunctionProperties("QueryRunner")["Timeout"]);
        var requestTimeout = Number(Variables("QueryRunner")["REQUEST_TIMEOUT_SECONDS"]);
        var staleParameter = Template["Parameters"]!["LockStaleSeconds"]!;

        Assert.True(timeout > requestTimeout,
            $"The QueryRunner Timeout ({timeout} s) must exceed REQUEST_TIMEOUT_SECONDS ({requestTimeout} s), so a slow request still answers itself.");
        Assert.True(timeout <= 30, $"The QueryRunner Timeout ({timeout} s) is longer than API Gateway's 30 s integration limit.");
        Assert.True(timeout < Number(staleParameter["Default"]),
            $"LockStaleSeconds' default ({staleParameter["Default"]}) must exceed the QueryRunner Timeout ({timeout} s).");
        Assert.Equal(timeout + ReaperOptions.ClockSkewMargin.TotalSeconds, Number(staleParameter["Default"]));
        Assert.True(timeout < Number(staleParameter["MinValue"]),
            $"LockStaleSeconds' MinValue ({staleParameter["MinValue"]}) must exceed the QueryRunner Timeout ({timeout} s), so no deployment can break a live lock.");
    }

    [Fact]
    public void LockReaper_is_told_the_QueryRunner_timeout_the_template_deploys()
    {
        var deployed = Number(FunctionProperties("QueryRunner")["Timeout"]);

        Assert.Equal(deployed, Number(Variables("LockReaper")["QUERY_RUNNER_TIMEOUT_SECONDS"]));
        Assert.Equal("LockStaleSeconds", (string?)Variables("LockReaper")["LOCK_STALE_SECONDS"]?["Ref"]);
    }

    [Fact]
    public void Every_rqlite_route_is_an_IAM_authorized_HTTP_API_route_of_the_QueryRunner()
    {
        var api = Template["Resources"]!["Api"]!;
        Assert.Equal("AWS::Serverless::HttpApi", (string?)api["Type"]);
        Assert.Equal("AWS_IAM", (string?)api["Properties"]!["Auth"]!["DefaultAuthorizer"]);

        var routes = FunctionProperties("QueryRunner")["Events"]!.AsObject()
            .Select(e => e.Value!)
            .Where(e => (string?)e["Type"] == "HttpApi")
            .Select(e =>
            {
                var properties = e["Properties"]!;
                Assert.Equal("Api", (string?)properties["ApiId"]?["Ref"]);
                Assert.Null(properties["Auth"]); // the API's default (AWS_IAM) applies; no route opts out
                return $"{properties["Method"]} {properties["Path"]}";
            })
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            ["GET /db/backup", "GET /db/databases", "GET /db/query", "GET /db/versions", "GET /readyz", "GET /status", "POST /db/execute", "POST /db/load", "POST /db/load/upload", "POST /db/query", "POST /db/request", "POST /db/restore", "POST /sql"],
            routes);
    }

    [Fact]
    public void Staged_uploads_may_be_deleted_only_in_the_staging_folder_which_expires_in_a_day()
    {
        // A statement granted only with one lock backend is an Fn::If: both of its branches count.
        var statements = FunctionProperties("QueryRunner")["Policies"]!.AsArray()
            .SelectMany(p => p!["Statement"]!.AsArray())
            .SelectMany(s => s is JsonObject conditional && conditional["Fn::If"] is JsonArray branches ? branches.Skip(1) : [s])
            .OfType<JsonObject>()
            .Where(s => s.ContainsKey("Action"))
            .ToList();
        var deletes = statements.Where(s => s["Action"]!.ToJsonString().Contains("s3:Delete", StringComparison.Ordinal)).ToList();
        var staging = Assert.Single(deletes, s => s["Resource"]!.ToJsonString().Contains("_staging/", StringComparison.Ordinal));
        Assert.Equal(["s3:DeleteObject", "s3:DeleteObjectVersion"], staging["Action"]!.AsArray().Select(a => (string)a!).Order(StringComparer.Ordinal));
        Assert.Equal("${DatabaseBucket.Arn}/${Prefix}_staging/*", (string?)staging["Resource"]!["Fn::Sub"]![0]);
        Assert.All(deletes.Where(s => s != staging), s => Assert.Equal("${DatabaseBucket.Arn}/${Prefix}_locks/*", (string?)s["Resource"]!["Fn::Sub"]![0]));

        var rules = Template["Resources"]!["DatabaseBucket"]!["Properties"]!["LifecycleConfiguration"]!["Rules"]!.AsArray()
            .Where(r => r is JsonObject rule && rule.ContainsKey("Prefix") && rule["Prefix"]!.ToJsonString().Contains("_staging/", StringComparison.Ordinal))
            .Select(r => r!.AsObject())
            .ToList();
        Assert.Equal(2, rules.Count);
        Assert.All(rules, r => Assert.Equal("${Prefix}_staging/", (string?)r["Prefix"]!["Fn::Sub"]![0]));
        var expiry = Assert.Single(rules, r => r.ContainsKey("ExpirationInDays"));
        Assert.Equal(1, Number(expiry["ExpirationInDays"]));
        Assert.Equal(1, Number(expiry["NoncurrentVersionExpiration"]!["NoncurrentDays"]));
        Assert.Single(rules, r => r["ExpiredObjectDeleteMarker"] is JsonValue marker && marker.GetValue<bool>());
    }

    [Fact]
    public void Events_folder_holds_exactly_the_sample_events_these_tests_check()
    {
        var files = Directory.GetFiles(EventsDirectory(), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(
            ["http-api-v2-execute.json", "http-api-v2-query.json", "rest-api-v1-query.json", "scheduled-event.json"],
            files);
    }

    [Fact]
    public async Task HttpApi_execute_event_is_a_POST_to_db_execute_with_a_create_and_an_insert()
    {
        var (request, response) = await InvokeQueryRunnerAsync("http-api-v2-execute.json");

        Assert.Equal("POST", request.Method);
        Assert.Equal("/db/execute", request.Path);
        Assert.True(request.HasFlag("transaction"));
        Assert.Equal("application/json", request.Header("content-type"));
        var statements = JsonNode.Parse(request.Body.Span)!.AsArray();
        Assert.Equal(2, statements.Count);
        Assert.StartsWith("CREATE TABLE foo", (string?)statements[0], StringComparison.Ordinal);
        Assert.StartsWith("INSERT INTO foo", (string?)statements[1]![0], StringComparison.Ordinal);
        Assert.Equal("Tqm3ZjEIoAMEPmQ=", request.RequestId);
        AssertOkResponse(response, ["statusCode", "headers", "body", "isBase64Encoded"]);
    }

    [Fact]
    public async Task HttpApi_query_event_is_a_GET_of_db_query_with_the_sql_in_q()
    {
        var (request, response) = await InvokeQueryRunnerAsync("http-api-v2-query.json");

        Assert.Equal("GET", request.Method);
        Assert.Equal("/db/query", request.Path);
        Assert.Equal("SELECT * FROM foo", request.QueryValue("q"));
        Assert.True(request.HasFlag("associative"));
        Assert.True(request.Body.IsEmpty);
        AssertOkResponse(response, ["statusCode", "headers", "body", "isBase64Encoded"]);
    }

    [Fact]
    public async Task RestApi_proxy_event_is_a_POST_to_db_query_with_a_json_statement_array()
    {
        var (request, response) = await InvokeQueryRunnerAsync("rest-api-v1-query.json");

        Assert.Equal("POST", request.Method);
        Assert.Equal("/db/query", request.Path);
        Assert.True(request.HasFlag("timings"));
        Assert.Equal("strong", request.QueryValue("level"));
        var statements = JsonNode.Parse(request.Body.Span)!.AsArray();
        Assert.StartsWith("SELECT", (string?)Assert.Single(statements), StringComparison.Ordinal);
        Assert.Equal("c6af9ac6-7b61-11e6-9a41-93e8deadbeef", request.RequestId);
        AssertOkResponse(response, ["statusCode", "headers", "body", "isBase64Encoded"]);
    }

    [Fact]
    public void Scheduled_event_has_the_EventBridge_scheduled_event_shape()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(EventsDirectory(), "scheduled-event.json")))!.AsObject();

        Assert.Equal(
            ["account", "detail", "detail-type", "id", "region", "resources", "source", "time", "version"],
            json.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("0", (string?)json["version"]);
        Assert.Equal("Scheduled Event", (string?)json["detail-type"]);
        Assert.Equal("aws.events", (string?)json["source"]);
        Assert.True(DateTimeOffset.TryParse((string?)json["time"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _));
        Assert.StartsWith("arn:aws:events:", (string?)Assert.Single(json["resources"]!.AsArray()), StringComparison.Ordinal);
        Assert.Empty(json["detail"]!.AsObject());
    }

    [Fact]
    public void Every_alarm_is_created_only_when_AlarmsEnabled_is_true_and_notifies_the_optional_topic()
    {
        var alarms = Alarms();
        Assert.Equal(3, alarms.Count);
        Assert.Equal(["false", "true"], Template["Parameters"]!["AlarmsEnabled"]!["AllowedValues"]!.AsArray().Select(v => (string)v!).Order(StringComparer.Ordinal));
        Assert.Equal(string.Empty, (string?)Template["Parameters"]!["AlarmTopicArn"]!["Default"]);
        foreach (var (name, alarm) in alarms)
        {
            Assert.True((string?)alarm["Condition"] == "CreateAlarms", $"{name} is not conditional on CreateAlarms");
            var actions = alarm["Properties"]!["AlarmActions"]!["Fn::If"]!.AsArray();
            Assert.Equal("NotifyAlarms", (string?)actions[0]);
        }
    }

    [Fact]
    public async Task Alarms_on_ServerlessDb_metrics_name_metrics_and_dimensions_the_log_lines_publish()
    {
        // What the code publishes: the directives of a real request line (a 404 and a read) and a real reaper summary.
        using var api = new ApiHarness();
        await api.SendAsync("GET", "/nowhere");
        await api.SendAsync("POST", "/db/query", """["SELECT 1"]""");
        var ec2 = new Mock<ServerlessDb.Locking.Ec2.IEc2Client>();
        ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<ServerlessDb.Locking.Ec2.Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([]);
        var reaperLog = new RecordingLogSink();
        await new ServerlessDb.Locking.Ec2.StaleLockReaper(ec2.Object, new("vpc-1", "serverlessdb-lock-", TimeSpan.FromMinutes(3)), TimeProvider.System, reaperLog)
            .ReapOnceAsync(null, CancellationToken.None);
        var published = api.Log.Lines.Concat(reaperLog.Lines)
            .Select(EmbeddedMetricFormat.Parse)
            .SelectMany(line => line.Values.Keys.SelectMany(metric => line.DimensionSets.Select(set => Published(metric, set))))
            .ToHashSet(StringComparer.Ordinal);

        var watched = Alarms().Values.SelectMany(AlarmMetrics).Where(m => m.Namespace == Metrics.Namespace).ToList();
        foreach (var (_, metric, dimensions) in watched)
        {
            Assert.True(published.Contains(Published(metric, dimensions)), $"an alarm watches {Published(metric, dimensions)}, which no log line publishes: {string.Join(", ", published.Order())}");
        }

        Assert.Equal(
            [Metrics.LocksDeleteFailed, Metrics.Requests, Metrics.ServerErrors],
            watched.Select(m => m.Metric).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_reaper_errors_alarm_watches_the_LockReaper_function()
    {
        var lambda = Alarms().Values.SelectMany(AlarmMetrics).Single(m => m.Namespace == "AWS/Lambda");
        Assert.Equal("Errors", lambda.Metric);
        Assert.Equal(["FunctionName"], lambda.Dimensions);
        var dimension = Alarms().Values.Single(a => (string?)a["Properties"]!["Namespace"] == "AWS/Lambda")["Properties"]!["Dimensions"]![0]!;
        Assert.Equal("LockReaper", (string?)dimension["Value"]!["Ref"]);
    }

    [Fact]
    public void Functions_write_their_log_lines_unprefixed_so_CloudWatch_reads_them_as_Embedded_Metric_Format()
    {
        foreach (var function in new[] { "QueryRunner", "LockReaper" })
        {
            Assert.Equal("Unformatted", (string?)Variables(function)["AWS_LAMBDA_HANDLER_LOG_FORMAT"]);
        }
    }

    private static Dictionary<string, JsonObject> Alarms() =>
        Template["Resources"]!.AsObject()
            .Where(r => (string?)r.Value!["Type"] == "AWS::CloudWatch::Alarm")
            .ToDictionary(r => r.Key, r => r.Value!.AsObject());

    private static string Published(string metric, IEnumerable<string> dimensions) =>
        $"{metric}[{string.Join(",", dimensions.Order(StringComparer.Ordinal))}]";

    // A single-metric alarm, or each MetricStat of a metric math alarm.
    private static IEnumerable<(string Namespace, string Metric, IReadOnlyList<string> Dimensions)> AlarmMetrics(JsonObject alarm)
    {
        var properties = alarm["Properties"]!;
        var metrics = properties["Metrics"] is JsonArray queries
            ? queries.Select(q => q!["MetricStat"]?["Metric"]).OfType<JsonNode>()
            : [properties];
        foreach (var metric in metrics)
        {
            var dimensions = metric["Dimensions"]?.AsArray().Select(d => (string)d!["Name"]!).ToList() ?? [];
            yield return ((string)metric["Namespace"]!, (string)metric["MetricName"]!, dimensions);
        }
    }

    private static void AssertSetsVariables(string function, IEnumerable<string> required)
    {
        var variables = Variables(function);
        foreach (var name in required)
        {
            Assert.True(variables[name] is not null, $"template.yaml does not set {name} for {function}, and its code requires it.");
        }
    }

    private static void AssertOkResponse(JsonObject response, string[] shape)
    {
        Assert.Equal(shape, response.Select(p => p.Key));
        Assert.Equal(200, (int)response["statusCode"]!);
    }

    private static async Task<(ApiRequest Request, JsonObject Response)> InvokeQueryRunnerAsync(string eventFile)
    {
        ApiRequest? received = null;
        var handler = new Mock<IApiHandler>(MockBehavior.Strict);
        handler
            .Setup(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()))
            .Callback<ApiRequest, CancellationToken>((request, _) => received = request)
            .ReturnsAsync(new ApiResponse(200, "application/json", """{"results":[]}""", new Dictionary<string, string>()));
        using var input = new MemoryStream(File.ReadAllBytes(Path.Combine(EventsDirectory(), eventFile)));

        using var output = await new global::QueryRunner.Function(handler.Object, new RecordingLogSink(), TimeProvider.System).HandleAsync(input);

        var response = JsonNode.Parse(output)!.AsObject();
        return (received ?? throw Fail($"{eventFile} did not reach the handler: {response}"), response);
    }

    /// <summary>The function's properties with Globals.Function applied, as SAM does (the function's own value wins; variables merge).</summary>
    private static JsonObject FunctionProperties(string function)
    {
        var resource = Template["Resources"]![function] ?? throw Fail($"template.yaml has no resource {function}.");
        Assert.Equal(ServerlessFunction, (string?)resource["Type"]);
        var merged = Template["Globals"]?["Function"]?.DeepClone().AsObject() ?? [];
        foreach (var (name, value) in resource["Properties"]!.AsObject())
        {
            merged[name] = value?.DeepClone();
        }

        var variables = new JsonObject();
        foreach (var source in new[] { Template["Globals"]?["Function"], resource["Properties"] })
        {
            foreach (var (name, value) in source?["Environment"]?["Variables"]?.AsObject() ?? [])
            {
                variables[name] = value?.DeepClone();
            }
        }

        merged["Environment"] = new JsonObject { ["Variables"] = variables };
        return merged;
    }

    private static JsonObject Variables(string function) => FunctionProperties(function)["Environment"]!["Variables"]!.AsObject();

    /// <summary>A number, a numeric string, a !FindInMap or a !Ref to a parameter (its default), as CloudFormation would resolve it.</summary>
    private static int Number(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<int>(out var number) => number,
        JsonValue value when value.TryGetValue<string>(out var text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture),
        JsonObject { Count: 1 } intrinsic when intrinsic["Fn::FindInMap"] is JsonArray path =>
            Number(Template["Mappings"]![(string)path[0]!]![(string)path[1]!]![(string)path[2]!]),
        JsonObject { Count: 1 } intrinsic when intrinsic["Ref"] is JsonValue name =>
            Number(Template["Parameters"]![(string)name!]!["Default"]),
        _ => throw Fail($"cannot resolve {node?.ToJsonString() ?? "null"} to a number"),
    };

    private static string ProjectAssemblyName(string projectDirectory)
    {
        var project = Assert.Single(Directory.GetFiles(projectDirectory, "*.csproj"));
        var declared = XDocument.Load(project).Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault();
        return declared ?? Path.GetFileNameWithoutExtension(project);
    }

    private static JsonObject LoadTemplate(string path)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(YamlToJson);
        start.ArgumentList.Add(path);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw Fail("python3 did not start.");
        }
        catch (Win32Exception e)
        {
            throw Fail($"python3 is needed to read template.yaml (with PyYAML, which cfn-lint installs) but could not be started: {e.Message}");
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw Fail(
                    $"python3 could not convert {path} to JSON (exit code {process.ExitCode}). If PyYAML is missing, " +
                    $"install it (pip install pyyaml; cfn-lint depends on it). python3 said:{Environment.NewLine}{stderr.Result}");
            }

            return JsonNode.Parse(stdout)?.AsObject() ?? throw Fail($"{path} converted to an empty document.");
        }
    }

    private static string EventsDirectory() => RepositoryRoot.PathOf("events");

    private static Xunit.Sdk.XunitException Fail(string message) => new(message);
}
