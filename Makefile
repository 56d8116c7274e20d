# The two commands of the README: `make run` and `make test`. Both set themselves up.
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Where `make run` serves (the Procfile's gunicorn binds it); the links it prints follow it.
# A wildcard address is printed as the loopback one, which a browser can open.
BIND ?= 127.0.0.1:8000
export BIND
SITE_URL := http://$(patsubst 0.0.0.0:%,127.0.0.1:%,$(patsubst [::]:%,[::1]:%,$(BIND)))

.PHONY: install run test check-services chromium node clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py ensure_admin --site-url $(SITE_URL)
	$(PY) manage.py ensure_default_model
	@# Offline this says what it needs in one line, and the site starts with the models it has.
	-$(PY) manage.py install_pretrained srn-gopro
	$(PY) manage.py ensure_signing_pair
	$(PY) manage.py ensure_samples
	@echo "Deblur: $(SITE_URL)  (Ctrl-C stops web and worker)"
	@# Not DEBUG: people see the site's own error pages, never Django's debug page, and
	@# whitenoise serves the collected static files. Plain HTTP, as it is this machine only.
	@# Staff import server folders from var/incoming only (INGEST_FOLDER_ROOTS).
	mkdir -p var/incoming
	HTTPS=false $(VENV)/bin/honcho start

chromium:
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -q && apt-get install -y -q chromium; }

node:
	@command -v npm >/dev/null || { echo "Installing Debian's nodejs and npm for the accessibility scan"; \
		apt-get update -q && apt-get install -y -q nodejs npm; }

# axe-core for the accessibility scan, at the version and hash package-lock.json pins.
node_modules/.package-lock.json: package.json package-lock.json | node
	npm ci --ignore-scripts --no-audit --no-fund

# Two workers (pytest-xdist), the idle one taking tests from the other: most tests wait on a
# browser, a worker or the services, and the run takes half the time on two cores
# (deblursite/tests/parallel.py gives each worker its own services).
test: $(VENV)/.installed-test chromium node_modules/.package-lock.json
	$(PY) -m pytest -n 2 --dist worksteal

clean:
	rm -rf $(VENV) var test-artifacts node_modules
