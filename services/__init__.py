"""Application services: one function per use case, called by the HTTP routes, the pages, the CLI and the
benchmarks alike. Services parse nothing and render nothing: they take validated input and an actor, apply the
rules of domain/ through the workflow or the read model, and answer with view models or a Refusal."""
