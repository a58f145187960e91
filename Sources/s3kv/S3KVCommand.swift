import ArgumentParser

/// The `s3kv` command line. `serve` is the default, so `s3kv` alone runs the server.
@main
struct S3KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3kv",
        abstract: "An HTTP key-value store on S3-compatible object storage, or on an embedded store.",
        subcommands: [ServeCommand.self, S3ServerCommand.self, VerifyCommand.self, TokenCommand.self, HealthcheckCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
