# deploy/: the Grafana dashboard and Prometheus alert rules, checked by a
# nested module that loads the rules with Prometheus's own parser and starts
# a real wse-server to see that every series they query is exported.
TEST_TARGETS += deploy-test

.PHONY: deploy-test
deploy-test:
	cd deploy && $(GO) mod download && $(GO) vet ./... && $(GO) test -count=1 ./...
