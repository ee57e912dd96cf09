import Testing

/// The end-to-end suites run one at a time: they start processes and measure them, and a neighbour's load would
/// blur what the memory test sees.
@Suite(.serialized) enum EndToEnd {}
