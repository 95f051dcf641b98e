module flotilla/bench

go 1.26.0
