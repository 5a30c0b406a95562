FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY processor ./processor
COPY topics ./topics
RUN pip install --no-cache-dir -c constraints.txt . \
    && mkdir -p /var/lib/claims-processor && chown nobody /var/lib/claims-processor
USER nobody
EXPOSE 6066
CMD ["claims-processor", "worker"]
