/// The Sockeye envelope scanner: not in this branch yet (it is being written in main).
func scannerCompetitors() -> [Competitor] { [] }
