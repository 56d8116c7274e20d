# The two commands of the README: `make run` and `make test`. Both set themselves up.
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test check-services chromium clean

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
	$(PY) manage.py ensure_admin
	$(PY) manage.py ensure_default_model
	@# Offline this says what it needs in one line, and the site starts with the models it has.
	-$(PY) manage.py install_pretrained srn-gopro
	@echo "Deblur: http://127.0.0.1:8000  (Ctrl-C stops web and worker)"
	DEBUG=true $(VENV)/bin/honcho start

chromium:
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -q && apt-get install -y -q chromium; }

test: $(VENV)/.installed-test chromium
	$(PY) -m pytest

clean:
	rm -rf $(VENV) var test-artifacts
