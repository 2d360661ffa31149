/// The web console's templates (`console/templates/*.mustache`) and assets
/// (`console/assets/`), embedded by scripts/embed-resources.sh so the console works from the
/// binary alone, air-gapped.
enum ConsoleResources {}
