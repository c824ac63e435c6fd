module asgo

go 1.26.8
