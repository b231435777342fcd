# One image for every service; compose picks the service with its command.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY psa ./psa
COPY contracts ./contracts
COPY services ./services
RUN pip install --no-cache-dir --no-deps -e .
ENV PSA_HOST=0.0.0.0 PSA_PORT=8000 PSA_DATA_DIR=/data
EXPOSE 8000
CMD ["psa", "up"]
